// Access keys: list, create (for every instance or only some), revoke.
import { attempt, field, h, say, values } from "./ui.js";

export async function keysPage(api) {
  const page = h("section", {});
  const redraw = async () => page.replaceChildren(...(await attempt(() => draw(api, redraw))) || []);
  await redraw();
  return page;
}

async function draw(api, redraw) {
  const { AccessKeys } = await api.call("LookalikeListAccessKeys");
  const made = h("div", {});
  const form = h("form.inline.card", {},
    h("h2", {}, "New key"),
    field("Only these instances (comma-separated; empty: every instance)", h("input", { name: "Instances" })),
    h("button", { type: "submit" }, "Create"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    attempt(async () => {
      const { AccessKey } = await api.call("LookalikeCreateAccessKey", values(form));
      await redraw();
      document.querySelector(".keys-made").replaceChildren(h("p.card.secret", {},
        "Copy the secret now: it is shown only this once. ",
        h("code", {}, AccessKey.AccessKeyId), " ", h("code", {}, AccessKey.AccessKeySecret)));
    });
  });
  made.className = "keys-made";
  const rows = AccessKeys.map((key) => h("tr", {},
    h("td", {}, h("code", {}, key.AccessKeyId)),
    h("td", {}, key.Instances ? key.Instances.join(", ") : "every instance"),
    h("td", {}, key.AccessKeyId === api.keyId ? "this console's key" :
      h("button.danger", {
        type: "button",
        onclick: () => {
          if (!confirm(`Revoke ${key.AccessKeyId}? Every server refuses it from its next request on.`)) return;
          attempt(async () => {
            await api.call("LookalikeRevokeAccessKey", { KeyId: key.AccessKeyId });
            await redraw();
            say(`Revoked ${key.AccessKeyId}.`);
          });
        },
      }, "Revoke"))));
  return [
    h("h1", {}, "Access keys"),
    h("p", {}, "The keys of the keys file; the key of LOOKALIKE_ACCESS_KEY_ID is not listed."),
    made,
    h("div.scroll", {}, h("table", {}, h("thead", {}, h("tr", {}, ["AccessKeyId", "May use", ""].map((t) => h("th", {}, t)))),
      h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: 3 }, "None in the keys file."))))),
    form,
  ];
}
