// Instances: list, create, update (capacity, limits, thumbnails) and delete with confirmation.
import { attempt, field, h, say, values } from "./ui.js";

const TYPES = ["product", "generic", "fabric", "trademark", "copyright", "furniture", "hardware", "cloth"];

function limits(instance) {
  return ["SearchQps", "AddQps", "DeleteQps"].map((name) => instance[name] || "∞").join(" / ");
}

function createForm(api) {
  const form = h("form.card.inline", {},
    h("h2", {}, "New instance"),
    field("Name", h("input", { name: "InstanceName", required: true, pattern: "[A-Za-z0-9][A-Za-z0-9_-]{0,19}" })),
    field("Type", h("select", { name: "Type" }, TYPES.map((type) => h("option", { value: type }, type)))),
    field("Capacity", h("input", { name: "Capacity", type: "number", min: 1, placeholder: "10000000" })),
    h("label.check", {}, h("input", { name: "CloudLimits", type: "checkbox" }), " The cloud's request limits"),
    h("label.check", {}, h("input", { name: "Thumbnails", type: "checkbox", checked: true }), " Keep thumbnails"),
    h("button", { type: "submit" }, "Create"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    attempt(async () => {
      await api.call("LookalikeCreateInstance", values(form));
      say(`Created ${values(form).InstanceName}.`);
      location.hash = `#/images/${encodeURIComponent(values(form).InstanceName)}`;
    });
  });
  return form;
}

function editForm(api, instance, done) {
  const form = h("form.inline", {},
    field("Capacity", h("input", { name: "Capacity", type: "number", min: 1, value: instance.Capacity })),
    field("Search/s", h("input", { name: "SearchQps", type: "number", min: 0, value: instance.SearchQps })),
    field("Add/s", h("input", { name: "AddQps", type: "number", min: 0, value: instance.AddQps })),
    field("Delete/s", h("input", { name: "DeleteQps", type: "number", min: 0, value: instance.DeleteQps })),
    h("label.check", {}, h("input", { name: "Thumbnails", type: "checkbox", checked: instance.Thumbnails }), " Thumbnails"),
    h("button", { type: "submit" }, "Save"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    attempt(async () => {
      await api.call("LookalikeUpdateInstance", { InstanceName: instance.Name, ...values(form) });
      await done();
      say(`Saved ${instance.Name}.`);
    });
  });
  return form;
}

export async function instancesPage(api) {
  const page = h("section", {});
  const redraw = async () => page.replaceChildren(...(await attempt(() => draw(api, redraw))) || []);
  await redraw();
  return page;
}

async function draw(api, redraw) {
  const { Instances } = await api.call("LookalikeListInstances");
  const rows = Instances.map((instance) => {
    const at = encodeURIComponent(instance.Name);
    const row = h("tr", { dataset: { instance: instance.Name } },
      h("td", {}, h("a", { href: `#/images/${at}` }, instance.Name)),
      h("td", {}, `${instance.Type} (${instance.ServiceType})`),
      h("td.number", {}, instance.TotalCount.toLocaleString()),
      h("td.number", {}, instance.Capacity.toLocaleString()),
      h("td", {}, limits(instance)),
      h("td.actions", {},
        h("a", { href: `#/search/${at}` }, "Search"),
        h("button.quiet", { type: "button", onclick: () => row.after(h("tr", {}, h("td", { colspan: 6 }, editForm(api, instance, redraw)))) }, "Edit"),
        h("button.danger", {
          type: "button",
          onclick: () => {
            if (!confirm(`Delete instance ${instance.Name} and its ${instance.TotalCount} images? This cannot be undone.`)) return;
            attempt(async () => {
              await api.call("LookalikeDeleteInstance", { InstanceName: instance.Name });
              await redraw();
              say(`Deleted ${instance.Name}.`);
            });
          },
        }, "Delete")));
    return row;
  });
  return [
    h("h1", {}, "Instances"),
    h("div.scroll", {}, h("table", {},
      h("thead", {}, h("tr", {}, ["Name", "Type", "Images", "Capacity", "Limits (search/add/delete a second)", ""].map((t) => h("th", {}, t)))),
      h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: 6 }, "No instance yet: create one below."))))),
    createForm(api),
  ];
}
