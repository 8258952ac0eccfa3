import { describe, expect, it } from "vitest";
import { requestTarget } from "./sender.ts";

describe("requestTarget: where a webhook URL's requests connect, and their host header", () => {
  it.each([
    ["http://127.0.0.1:8080/hooks", "127.0.0.1", 8080, "127.0.0.1:8080"],
    ["https://hooks.example.com/in?x=1", "hooks.example.com", undefined, "hooks.example.com"],
    // the scheme's own port is left out of the header (the URL drops it)
    ["https://hooks.example.com:443/in", "hooks.example.com", undefined, "hooks.example.com"],
    ["http://hooks.example.com:80/in", "hooks.example.com", undefined, "hooks.example.com"],
    ["https://hooks.example.com:8443/in", "hooks.example.com", 8443, "hooks.example.com:8443"],
    // an IPv6 address: bare to connect, bracketed in the header
    ["http://[::1]:9000/hooks", "::1", 9000, "[::1]:9000"],
    ["https://[2001:db8::1]/hooks", "2001:db8::1", undefined, "[2001:db8::1]"],
    // port 0 connects to the scheme's port, and the header names none
    ["https://hooks.example.com:0/in", "hooks.example.com", undefined, "hooks.example.com"],
    // international names travel as punycode
    ["https://bücher.example/in", "xn--bcher-kva.example", undefined, "xn--bcher-kva.example"],
  ])("%s", (raw, hostname, port, host) => {
    expect(requestTarget(new URL(raw))).toEqual({ hostname, port, host });
  });
});
