// Bulk jobs of an instance: start an import from a bucket the server was started with, follow it, export
// the metadata (DumpMeta), and the links to what they wrote.
import { attempt, field, h, say, values } from "./ui.js";

function link(url, text) {
  return url ? h("a", { href: url, target: "_blank", rel: "noopener" }, text) : "";
}

export async function jobsPage(api, instance) {
  const page = h("section", {});
  const imports = h("tbody", {});
  const dumps = h("tbody", {});
  let timer = null;

  async function refresh() {
    const [increments, exports] = await Promise.all([
      api.call("IncreaseList", { InstanceName: instance, PageSize: 20 }),
      api.call("DumpMetaList", { InstanceName: instance, PageSize: 20 }),
    ]);
    const items = increments.Data.Increments.Instance;
    imports.replaceChildren(...items.map((item) => h("tr", {},
      h("td", {}, item.Id), h("td", {}, item.Status), h("td", {}, `${item.BucketName}${item.Path}`),
      h("td", {}, h("progress", { max: item.Counts.Lines || 1, value: item.Counts.Done }),
        ` ${item.Counts.Done}/${item.Counts.Lines}: ${item.Counts.Added} added, ${item.Counts.Deleted} deleted, ${item.Counts.Failed} failed`),
      h("td", {}, link(item.ErrorUrl, "errors"), item.Msg && item.Status === "FAIL" ? ` ${item.Msg}` : ""))));
    dumps.replaceChildren(...exports.Data.DumpMetaList.map((item) => h("tr", {},
      h("td", {}, item.Id), h("td", {}, item.Status), h("td", {}, link(item.MetaUrl, "meta")), h("td", {}, item.Msg || ""))));
    clearTimeout(timer);
    const running = items.some((i) => i.Status === "PROCESSING") ||
      exports.Data.DumpMetaList.some((i) => i.Status === "PROCESSING");
    if (running && document.body.contains(page)) timer = setTimeout(() => attempt(refresh), 1000);
  }

  const form = h("form.inline", {},
    field("Bucket (a NAME of lookalike serve --bucket)", h("input", { name: "BucketName", required: true })),
    field("Folder of increment.meta", h("input", { name: "Path", value: "/" })),
    h("button", { type: "submit" }, "Import"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    attempt(async () => {
      const answer = await api.call("IncreaseInstance", { InstanceName: instance, ...values(form) });
      say(`Import job ${answer.Data.Id} started.`);
      await refresh();
    });
  });
  const dump = h("button", {
    type: "button",
    onclick: () => attempt(async () => {
      const answer = await api.call("DumpMeta", { InstanceName: instance });
      say(`Export job ${answer.Data.Id} started.`);
      await refresh();
    }),
  }, "Export the metadata (DumpMeta)");
  page.append(
    h("h1", {}, `${instance}: jobs`),
    h("h2", {}, "Imports"), form,
    h("div.scroll", {}, h("table", {}, h("thead", {}, h("tr", {}, ["Id", "Status", "From", "Progress", ""].map((t) => h("th", {}, t)))), imports)),
    h("h2", {}, "Exports"), dump,
    h("div.scroll", {}, h("table", {}, h("thead", {}, h("tr", {}, ["Id", "Status", "File", ""].map((t) => h("th", {}, t)))), dumps)));
  await refresh();
  return page;
}
