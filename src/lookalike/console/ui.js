// A few helpers to build the page from plain DOM elements: no framework, no build step.

// h("div.card", {onclick}, child, "text", ...): an element with classes, attributes and children.
export function h(tag, attributes = {}, ...children) {
  const [name, ...classes] = tag.split(".");
  const element = document.createElement(name);
  if (classes.length) element.className = classes.join(" ");
  for (const [key, value] of Object.entries(attributes || {})) {
    if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(element.dataset, value);
    else if (value === true) element.setAttribute(key, "");
    else if (value !== false && value !== undefined && value !== null) element.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) {
      element.append(child instanceof Node ? child : String(child));
    }
  }
  return element;
}

export function field(label, input) {
  return h("label.field", {}, h("span", {}, label), input);
}

// Runs an async action, showing what it refused in the page's message bar.
export async function attempt(action) {
  const bar = document.getElementById("message");
  bar.textContent = "";
  bar.className = "";
  try {
    return await action();
  } catch (error) {
    bar.textContent = error.message;
    bar.className = "error";
    return undefined;
  }
}

export function say(text) {
  const bar = document.getElementById("message");
  bar.textContent = text;
  bar.className = "note";
}

// The values of a form's named inputs, checkboxes as true/false.
export function values(form) {
  const out = {};
  for (const input of form.querySelectorAll("[name]")) {
    out[input.name] = input.type === "checkbox" ? input.checked : input.value.trim();
  }
  return out;
}

export function region(text) {
  const [x1, x2, y1, y2] = text.split(",").map(Number);
  return { x1, x2, y1, y2 };
}
