// One instance's images: filter with the filter language, page through, delete one or by filter.
import { imageCard, thumbnails } from "./thumbnails.js";
import { attempt, field, h, say } from "./ui.js";

const PAGE = 24;

export async function imagesPage(api, instance) {
  const page = h("section", {});
  const state = { filter: "", cursors: [""] }; // cursors[i]: where page i starts
  const filter = h("input", { name: "Filter", placeholder: 'int_attr>=100 AND str_attr="red"', size: 40 });
  const grid = h("div.grid", {});
  const status = h("p.status", {});
  const pager = h("div.pager", {});

  async function show(index) {
    const answer = await api.call("LookalikeListImages", {
      InstanceName: instance, Filter: state.filter, Limit: PAGE, Cursor: state.cursors[index],
    });
    state.cursors[index + 1] = answer.NextCursor;
    const pictures = await thumbnails(api, instance, answer.Images);
    grid.replaceChildren(...answer.Images.map((item) => imageCard(item, pictures,
      h("button.danger", { type: "button", onclick: () => remove(item, index) }, "Delete"))));
    status.textContent = `${answer.TotalCount.toLocaleString()} images${state.filter ? " match" : ""}; page ${index + 1}`;
    pager.replaceChildren(
      h("button", { type: "button", disabled: index === 0, onclick: () => attempt(() => show(index - 1)) }, "Previous"),
      h("button", { type: "button", disabled: !answer.NextCursor, onclick: () => attempt(() => show(index + 1)) }, "Next"));
  }

  function remove(item, index) {
    if (!confirm(`Delete ${item.PicName} of product ${item.ProductId}?`)) return;
    attempt(async () => {
      await api.call("DeleteImage", { InstanceName: instance, ProductId: item.ProductId, PicName: item.PicName });
      say(`Deleted ${item.PicName}.`);
      await show(index);
    });
  }

  const form = h("form.inline", {}, field("Filter", filter), h("button", { type: "submit" }, "Apply"),
    h("button.danger", {
      type: "button",
      onclick: () => {
        const text = filter.value.trim();
        if (!text) return say("Give a filter first: deleting by filter deletes what it matches.");
        if (!confirm(`Delete every image of ${instance} that matches ${text}?`)) return;
        attempt(async () => {
          const { Data } = await api.call("DeleteImage", { InstanceName: instance, IsDeleteByFilter: "true", Filter: text });
          say(`Deleted ${Data.PicNames.length} images.`);
          await show(0);
        });
      },
    }, "Delete all that match"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    state.filter = filter.value.trim();
    state.cursors = [""];
    attempt(() => show(0));
  });
  page.append(h("h1", {}, `${instance}: images`), form, status, grid, pager);
  await show(0);
  return page;
}
