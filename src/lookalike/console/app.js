// The console: sign in with an AccessKey pair, then one page per hash route.
import { Api } from "./api.js";
import { addPage } from "./add.js";
import { imagesPage } from "./images.js";
import { instancesPage } from "./instances.js";
import { jobsPage } from "./jobs.js";
import { keysPage } from "./keys.js";
import { searchPage } from "./search.js";
import { attempt, field, h, values } from "./ui.js";

const REMEMBERED = "lookalike.key";
const PAGES = { instances: instancesPage, images: imagesPage, search: searchPage, add: addPage, jobs: jobsPage, keys: keysPage };
let api = null; // the key pair lives here, in the tab's memory, unless the person asks to remember it

function signIn() {
  const form = h("form.card.signin", {},
    h("h1", {}, "Sign in"),
    h("p", {}, "With an AccessKey pair of this server (lookalike keys create). Requests are signed in this tab;",
      " the secret is not sent."),
    field("AccessKeyId", h("input", { name: "id", required: true, autocomplete: "username" })),
    field("AccessKeySecret", h("input", { name: "secret", type: "password", required: true, autocomplete: "current-password" })),
    h("label.check", {}, h("input", { name: "remember", type: "checkbox" }), " Remember on this browser"),
    h("button", { type: "submit" }, "Sign in"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const given = values(form);
    attempt(async () => {
      const candidate = new Api(given.id, given.secret);
      await candidate.call("LookalikeListInstances").catch((error) => {
        if (error.code !== "NoPermission") throw error; // a key limited to instances may still search
      });
      api = candidate;
      if (given.remember) localStorage.setItem(REMEMBERED, JSON.stringify({ id: given.id, secret: given.secret }));
      if (!location.hash || location.hash === "#/signin") location.hash = "#/instances";
      route();
    });
  });
  return form;
}

function signOut() {
  api = null;
  localStorage.removeItem(REMEMBERED);
  location.hash = "#/signin";
  route();
}

function navigation(instance) {
  const links = [["#/instances", "Instances"], ["#/keys", "Keys"]];
  if (instance) {
    const at = encodeURIComponent(instance);
    links.splice(1, 0, [`#/images/${at}`, "Images"], [`#/search/${at}`, "Search"], [`#/add/${at}`, "Add"], [`#/jobs/${at}`, "Jobs"]);
  }
  return [
    ...links.map(([href, text]) => h("a", { href, class: location.hash.startsWith(href) ? "here" : "" }, text)),
    h("button.quiet", { onclick: signOut, type: "button" }, "Sign out"),
  ];
}

async function route() {
  const page = document.getElementById("page");
  const nav = document.getElementById("nav");
  if (!window.isSecureContext || !crypto.subtle) {
    page.replaceChildren(h("p.card", {}, "The console signs requests with WebCrypto, which browsers give only to a ",
      "secure page: open it at localhost or 127.0.0.1, or serve HTTPS (lookalike serve --tls-cert ... --tls-key ...)."));
    return;
  }
  if (!api) {
    nav.replaceChildren();
    page.replaceChildren(signIn());
    return;
  }
  const [name = "instances", instance] = location.hash.replace(/^#\//, "").split("/").map(decodeURIComponent);
  const show = PAGES[name] || instancesPage;
  nav.replaceChildren(...navigation(instance));
  page.replaceChildren(h("p.loading", {}, "Loading…"));
  const content = await attempt(() => show(api, instance));
  if (content) page.replaceChildren(content);
}

const remembered = localStorage.getItem(REMEMBERED);
if (remembered) {
  const { id, secret } = JSON.parse(remembered);
  api = new Api(id, secret);
}
window.addEventListener("hashchange", route);
route();
