// Drives the official Node.js SDK for tests/acceptance/test_node_sdk.py: reads one JSON command on stdin,
// prints one JSON answer on stdout.
//
// Command: {client: {endpoint, accessKeyId, accessKeySecret, protocol, signatureAlgorithm?, ca?},
//           calls: [{method, request, streams?}]}
// Each call is `client[method](new <Method>Request(request), runtime)`, the request in the SDK's own field
// names; `streams` maps the file-stream fields of an *Advance request to their bytes (base64), each sent as
// a stream, as a caller's file would be. The client's `openPlatformEndpoint` is set to its endpoint, and a
// `ca` (PEM text) goes into the RuntimeOptions. Answer: one entry per call, in order:
// {statusCode, body} (the body as the SDK parsed it, in the wire's names) or {error: {name, code, message,
// statusCode, retryAfter, data}}.

"use strict";

const { Readable } = require("node:stream");
const ImageSearch = require("@alicloud/imagesearch20201214");
const { $OpenApiUtil } = require("@alicloud/openapi-core");
const { RuntimeOptions } = require("@darabonba/typescript");

function makeClient({ endpoint, accessKeyId, accessKeySecret, protocol, signatureAlgorithm }) {
  const config = new $OpenApiUtil.Config({
    accessKeyId,
    accessKeySecret,
    endpoint,
    protocol,
    regionId: "cn-shanghai",
    // A busy test machine can take longer than the SDK's 5 s to connect and 10 s to answer.
    connectTimeout: 60000,
    readTimeout: 120000,
  });
  if (signatureAlgorithm) config.signatureAlgorithm = signatureAlgorithm;
  const client = new ImageSearch.default(config);
  client._openPlatformEndpoint = endpoint; // where the *Advance methods authorise their upload
  return client;
}

function requestOf({ method, request, streams = {} }) {
  const model = method[0].toUpperCase() + method.slice(1) + "Request";
  const fields = { ...request };
  for (const [name, bytes] of Object.entries(streams)) {
    fields[name] = Readable.from([Buffer.from(bytes, "base64")]);
  }
  return new ImageSearch[model](fields);
}

function errorOf(error) {
  const { name, code, message, statusCode, retryAfter, data } = error;
  return { name, code, message, statusCode, retryAfter, data };
}

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const command = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  const client = makeClient(command.client);
  const runtime = new RuntimeOptions(command.client.ca ? { ca: command.client.ca } : {});
  const answers = [];
  for (const call of command.calls) {
    try {
      const response = await client[call.method](requestOf(call), runtime);
      answers.push({ statusCode: response.statusCode, body: response.body.toMap() });
    } catch (error) {
      answers.push({ error: errorOf(error) });
    }
  }
  process.stdout.write(JSON.stringify(answers));
}

main().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
