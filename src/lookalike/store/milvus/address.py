"""Where Milvus is, and how to log in: a `milvus://` URI."""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass(frozen=True)
class MilvusAddress:
    """Where Milvus is and how to log in: parsed from `milvus://[user[:password]@]host[:port][/db][?options]`.

    Options: `tls=true` (verify with the system's CAs, or `ca=PATH`), `cert=PATH&key=PATH` (a client
    certificate, for mutual TLS), `server_name=NAME` (the name in the server's certificate). A password not in
    the URI is read from LOOKALIKE_MILVUS_PASSWORD, so that it need not appear in a command line.
    """

    host: str
    port: int = 19530
    user: str = ""
    password: str = ""
    database: str = ""
    tls: bool = False
    ca: str = ""
    cert: str = ""
    key: str = ""
    server_name: str = ""

    @classmethod
    def parse(cls, uri: str, environ: dict[str, str] | None = None) -> MilvusAddress:
        env = os.environ if environ is None else environ
        parts = urlsplit(uri)
        if parts.scheme != "milvus" or not parts.hostname:
            raise ValueError(
                f"not a Milvus URI: {uri!r}; expected milvus://[user[:password]@]host[:port][/db]"
            )
        options = {name: values[-1] for name, values in parse_qs(parts.query, keep_blank_values=True).items()}
        unknown = set(options) - {"tls", "ca", "cert", "key", "server_name"}
        if unknown:
            raise ValueError(f"unknown Milvus URI options {sorted(unknown)}: tls, ca, cert, key, server_name")
        if options.get("tls", "false") not in ("true", "false", "1", "0"):
            raise ValueError(f"tls={options['tls']!r}: true or false")
        if bool(options.get("cert")) != bool(options.get("key")):
            raise ValueError("a client certificate needs both cert=PATH and key=PATH")
        user = unquote(parts.username or "")
        password = unquote(parts.password or "") or (env.get("LOOKALIKE_MILVUS_PASSWORD", "") if user else "")
        return cls(
            host=parts.hostname,
            port=parts.port or 19530,
            user=user,
            password=password,
            database=unquote(parts.path.strip("/")),
            tls=options.get("tls") in ("true", "1") or "ca" in options or "cert" in options,
            ca=options.get("ca", ""),
            cert=options.get("cert", ""),
            key=options.get("key", ""),
            server_name=options.get("server_name", ""),
        )

    def client_options(self) -> dict[str, object]:
        """Keyword arguments of `pymilvus.MilvusClient` (whose TLS parameters are named oddly)."""
        options: dict[str, object] = {
            "uri": f"{'https' if self.tls else 'http'}://{self.host}:{self.port}",
            "user": self.user,
            "password": self.password,
            "db_name": self.database,
        }
        if self.tls:
            options["secure"] = True
            if self.cert:  # mutual TLS
                options |= {"ca_pem_path": self.ca, "client_pem_path": self.cert, "client_key_path": self.key}
            elif self.ca:
                options["server_pem_path"] = self.ca  # used as the root certificate to verify the server
            if self.server_name:
                options["server_name"] = self.server_name
        return options
