// Calls to the Lookalike API, signed in the browser with ACS3-HMAC-SHA256 exactly as the official SDKs sign
// them (WebCrypto), so the console has the same rights as any client of the same key.

const VERSION = "2020-12-14";
const encoder = new TextEncoder();

function hex(buffer) {
  return [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function sha256(text) {
  return hex(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

async function hmacSha256(secret, text) {
  const key = await crypto.subtle.importKey(
    "raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"],
  );
  return hex(await crypto.subtle.sign("HMAC", key, encoder.encode(text)));
}

// RFC 3986 percent-encoding, as every Alibaba signer: only A-Z a-z 0-9 - _ . ~ stay as they are.
export function percent(text) {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
}

export class ApiError extends Error {
  constructor(code, message, status) {
    super(`${code}: ${message}`);
    this.code = code;
    this.status = status;
  }
}

export class Api {
  constructor(keyId, secret) {
    this.keyId = keyId;
    this.secret = secret;
  }

  // The action's JSON answer; an ApiError with the server's code if it refused.
  async call(action, params = {}) {
    const body = Object.entries(params)
      .filter(([, value]) => value !== undefined && value !== null && value !== "")
      .map(([name, value]) => `${percent(name)}=${percent(String(value))}`)
      .join("&");
    const headers = {
      host: location.host,
      "content-type": "application/x-www-form-urlencoded",
      "x-acs-action": action,
      "x-acs-version": VERSION,
      "x-acs-date": new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
      "x-acs-signature-nonce": crypto.randomUUID().replaceAll("-", ""),
      "x-acs-content-sha256": await sha256(body),
    };
    const names = Object.keys(headers).sort();
    const canonical = [
      "POST", "/", "", names.map((name) => `${name}:${headers[name].trim()}\n`).join(""), names.join(";"),
      headers["x-acs-content-sha256"],
    ].join("\n");
    const signature = await hmacSha256(this.secret, `ACS3-HMAC-SHA256\n${await sha256(canonical)}`);
    const sent = { ...headers };
    delete sent.host; // the browser sends it, as signed
    sent.authorization =
      `ACS3-HMAC-SHA256 Credential=${this.keyId},SignedHeaders=${names.join(";")},Signature=${signature}`;
    const response = await fetch("/", { method: "POST", headers: sent, body });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      throw new ApiError(answer.Code || `HTTP ${response.status}`, answer.Message || response.statusText, response.status);
    }
    return answer;
  }
}

// A picture as PicContent: its bytes in base64.
export async function base64Of(file) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}
