// The stored pictures' thumbnails, fetched in one signed request per page of results.
import { h } from "./ui.js";

export async function thumbnails(api, instance, items) {
  if (!items.length) return new Map();
  const keys = items.map((item) => ({ ProductId: item.ProductId, PicName: item.PicName }));
  const { Thumbnails } = await api.call("LookalikeGetThumbnails", { InstanceName: instance, Keys: JSON.stringify(keys) });
  return new Map(Thumbnails.map((t) => [`${t.ProductId}\u0000${t.PicName}`, `data:image/jpeg;base64,${t.Data}`]));
}

const ATTRIBUTES = ["CategoryId", "IntAttr", "IntAttr2", "IntAttr3", "IntAttr4", "StrAttr", "StrAttr2", "StrAttr3", "StrAttr4", "CustomContent"];

// One image as a card: its thumbnail, its key, its score if it has one, its attributes.
export function imageCard(item, pictures, ...actions) {
  const picture = pictures.get(`${item.ProductId}\u0000${item.PicName}`);
  const shown = ATTRIBUTES.filter((name) => item[name] !== undefined && item[name] !== "" && item[name] !== 0);
  return h("figure.image", { dataset: { product: item.ProductId, pic: item.PicName } },
    picture ? h("img", { src: picture, alt: item.PicName, loading: "lazy" }) : h("div.nopicture", {}, "no thumbnail"),
    h("figcaption", {},
      h("strong", {}, item.PicName), h("span", {}, ` ${item.ProductId}`),
      item.Score !== undefined ? h("span.score", {}, ` ${item.Score.toFixed(3)}`) : null,
      h("dl", {}, shown.flatMap((name) => [h("dt", {}, name), h("dd", {}, item[name])]))),
    ...actions);
}
