// Add pictures: one or many files, with ProductId, PicName (the file's name by default) and attributes.
import { base64Of } from "./api.js";
import { attempt, field, h, say, values } from "./ui.js";

export async function addPage(api, instance) {
  const files = h("input", { type: "file", name: "files", accept: "image/*", multiple: true, required: true });
  const log = h("ol.log", {});
  const form = h("form.card", {},
    h("h1", {}, `${instance}: add pictures`),
    field("Pictures", files),
    field("ProductId (default: the file's name without its extension)", h("input", { name: "ProductId" })),
    field("PicName (one picture; default: the file's name)", h("input", { name: "PicName" })),
    field("CategoryId (default: predicted)", h("input", { name: "CategoryId", type: "number" })),
    h("div.row", {},
      field("IntAttr", h("input", { name: "IntAttr", type: "number" })),
      field("StrAttr", h("input", { name: "StrAttr" }))),
    field("CustomContent", h("input", { name: "CustomContent" })),
    h("label.check", {}, h("input", { name: "Crop", type: "checkbox", checked: true }), " Find the subject (Crop)"),
    h("button", { type: "submit" }, "Add"),
    log);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const given = values(form);
    attempt(async () => {
      let added = 0;
      for (const file of files.files) {
        const stem = file.name.replace(/\.[^.]*$/, "");
        const answer = await api.call("AddImage", {
          InstanceName: instance,
          ProductId: given.ProductId || stem,
          PicName: (files.files.length === 1 && given.PicName) || file.name,
          CategoryId: given.CategoryId, IntAttr: given.IntAttr, StrAttr: given.StrAttr,
          CustomContent: given.CustomContent, Crop: given.Crop ? "true" : "false",
          PicContent: await base64Of(file),
        }).catch((error) => ({ error }));
        log.append(h("li", { class: answer.error ? "error" : "" },
          answer.error ? `${file.name}: ${answer.error.message}` : `${file.name}: added, category ${answer.PicInfo.CategoryId}, region ${answer.PicInfo.Region}`));
        if (!answer.error) added += 1;
      }
      say(`Added ${added} of ${files.files.length} pictures.`);
    });
  });
  return form;
}
