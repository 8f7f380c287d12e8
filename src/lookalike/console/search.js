// Search with a photo: drop, paste or pick it; the boxes of PicInfo.Region and of every MultiRegion are drawn
// over it; a click on a box searches that box; a box drawn by hand is searched as Region; the predicted
// category is shown and can be changed.
import { base64Of } from "./api.js";
import { imageCard, thumbnails } from "./thumbnails.js";
import { attempt, h, region } from "./ui.js";

export async function searchPage(api, instance) {
  const state = { file: null, content: "", url: "", region: "", category: "" };
  const picker = h("input", { type: "file", accept: "image/*", name: "picture" });
  const photo = h("img", { alt: "the photo searched with" });
  const boxes = h("div.boxes", {});
  const stage = h("div.stage", {}, photo, boxes);
  const drop = h("div.drop", {}, h("p", {}, "Drop a photo here, paste one, or "), picker, stage);
  const category = h("select", { name: "CategoryId", disabled: true });
  const summary = h("p.status", {});
  const grid = h("div.grid", {});

  async function use(file) {
    if (!file || !file.type.startsWith("image/")) return;
    if (state.url) URL.revokeObjectURL(state.url);
    state.file = file;
    state.url = URL.createObjectURL(file);
    state.content = await base64Of(file);
    state.region = "";
    state.category = "";
    photo.src = state.url;
    await photo.decode().catch(() => {});
    await search();
  }

  async function search() {
    const answer = await api.call("SearchImageByPic", {
      InstanceName: instance, PicContent: state.content, Region: state.region, CategoryId: state.category, Num: 20,
    });
    const info = answer.PicInfo;
    drawBoxes(info);
    category.replaceChildren(...info.AllCategories.map((c) =>
      h("option", { value: c.Id, selected: c.Id === info.CategoryId }, `${c.Name} (${c.Id})`)));
    category.disabled = info.AllCategories.length < 2;
    summary.textContent = `${answer.Auctions.length} of ${answer.Head.DocsFound} matching images, ` +
      `region ${info.Region}, ${answer.Head.SearchTime} ms`;
    const pictures = await thumbnails(api, instance, answer.Auctions);
    grid.replaceChildren(...answer.Auctions.map((item) => imageCard(item, pictures)));
  }

  // Pixels of the original picture to pixels of the photo as shown.
  function scale() {
    return photo.clientWidth / (photo.naturalWidth || 1);
  }

  function place(element, box) {
    const s = scale();
    Object.assign(element.style, {
      left: `${box.x1 * s}px`, top: `${box.y1 * s}px`, width: `${(box.x2 - box.x1) * s}px`, height: `${(box.y2 - box.y1) * s}px`,
    });
    return element;
  }

  function drawBoxes(info) {
    const others = (info.MultiRegion || []).map((m) => m.Region).filter((r) => r && r !== info.Region);
    boxes.replaceChildren(...[info.Region, ...others].map((text, i) => place(h("button.box", {
      type: "button", class: i === 0 ? "box chosen" : "box", title: `search ${text}`, dataset: { region: text },
      onclick: (event) => {
        if (event.detail !== 0) return; // a pointer's click is the stage's (below); this is Enter or Space
        state.region = text;
        attempt(search);
      },
    }), region(text))));
  }

  // A box drawn by hand: pointer down, drag, up; searched as Region. It may start over a box drawn already
  // (a search lists up to 20 subjects, and they cover much of a photo); a press that does not drag is a
  // click, which searches the box it was on.
  const CLICK = 8; // px: a drag shorter than this on either side is a click
  let start = null;
  let pressed = null;
  let drawn = null;
  stage.addEventListener("pointerdown", (event) => {
    if (!state.content) return;
    const bounds = photo.getBoundingClientRect();
    start = { x: event.clientX - bounds.left, y: event.clientY - bounds.top };
    pressed = event.target.closest(".box:not(.drawn)");
    drawn = h("div.box.drawn", {});
    boxes.append(drawn);
    stage.setPointerCapture(event.pointerId);
  });
  stage.addEventListener("pointermove", (event) => {
    if (!start) return;
    const bounds = photo.getBoundingClientRect();
    const x = Math.min(Math.max(event.clientX - bounds.left, 0), bounds.width);
    const y = Math.min(Math.max(event.clientY - bounds.top, 0), bounds.height);
    Object.assign(drawn.style, {
      left: `${Math.min(x, start.x)}px`, top: `${Math.min(y, start.y)}px`,
      width: `${Math.abs(x - start.x)}px`, height: `${Math.abs(y - start.y)}px`,
    });
  });
  stage.addEventListener("pointerup", () => {
    if (!start) return;
    const s = scale();
    const left = drawn.offsetLeft / s;
    const top = drawn.offsetTop / s;
    const box = [left, left + drawn.offsetWidth / s, top, top + drawn.offsetHeight / s].map(Math.round);
    start = null;
    if (drawn.offsetWidth < CLICK || drawn.offsetHeight < CLICK) {
      drawn.remove();
      if (!pressed) return;
      state.region = pressed.dataset.region;
    } else {
      state.region = box.join(",");
    }
    attempt(search);
  });

  picker.addEventListener("change", () => attempt(() => use(picker.files[0])));
  drop.addEventListener("dragover", (event) => event.preventDefault());
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    attempt(() => use(event.dataTransfer.files[0]));
  });
  const onPaste = (event) => {
    if (!document.body.contains(drop)) return document.removeEventListener("paste", onPaste);
    const item = [...event.clipboardData.items].find((i) => i.type.startsWith("image/"));
    if (item) attempt(() => use(item.getAsFile()));
  };
  document.addEventListener("paste", onPaste);
  category.addEventListener("change", () => {
    state.category = category.value;
    attempt(search);
  });
  window.addEventListener("resize", () => boxes.querySelectorAll(".box:not(.drawn)").forEach((b) => place(b, region(b.dataset.region))));

  return h("section", {},
    h("h1", {}, `${instance}: search`),
    h("div.search", {}, drop, h("div", {}, h("label.field", {}, h("span", {}, "Category"), category), summary)),
    grid);
}
