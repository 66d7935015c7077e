package com.ecloud.compute.gateway.internal.proxy;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.util.List;
import java.util.Locale;

/** The checks a request head must pass before it may reach a backend, and the header rewriting of a proxy. */
final class RequestRules {
    private static final String WEBSOCKET = "websocket";
    // AsciiString names: their hash is cached and they need no per-use validation or conversion
    private static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
    private static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
    private static final AsciiString X_FORWARDED_HOST = AsciiString.cached("x-forwarded-host");
    private static final AsciiString X_FORWARDED_PORT = AsciiString.cached("x-forwarded-port");
    private static final AsciiString PROXY_CONNECTION = AsciiString.cached("proxy-connection");
    private static final AsciiString HTTPS = AsciiString.cached("https");
    private static final AsciiString HTTP = AsciiString.cached("http");

    private RequestRules() {
    }

    /** A refusal for the framing of the request (400) or null when Content-Length/Transfer-Encoding/Host are sound. */
    static String framingProblem(HttpRequest request) {
        HttpHeaders headers = request.headers();
        List<String> lengths = headers.contains(HttpHeaderNames.CONTENT_LENGTH)
                ? headers.getAll(HttpHeaderNames.CONTENT_LENGTH) : List.of();
        List<String> encodings = headers.contains(HttpHeaderNames.TRANSFER_ENCODING)
                ? headers.getAll(HttpHeaderNames.TRANSFER_ENCODING) : List.of();
        if (!lengths.isEmpty() && !encodings.isEmpty()) {
            return "the request has both Content-Length and Transfer-Encoding";
        }
        if (!encodings.isEmpty() && (encodings.size() != 1 || !"chunked".equalsIgnoreCase(encodings.get(0).strip()))) {
            return "Transfer-Encoding other than \"chunked\" is not supported";
        }
        if (lengths.size() > 1) {
            return "the request has several Content-Length headers";
        }
        if (lengths.size() == 1 && !isDigits(lengths.get(0).strip())) {
            return "the Content-Length header is not a number";
        }
        List<String> hosts = headers.getAll(HttpHeaderNames.HOST);
        if (hosts.size() > 1) {
            return "the request has several Host headers";
        }
        if (hosts.isEmpty()) {
            // HTTP/1.0 may omit Host, but a name-based gateway cannot route it either
            return request.protocolVersion().equals(HttpVersion.HTTP_1_0)
                    ? "the request has no Host header (needed to find the container)"
                    : "the request has no Host header";
        }
        return null;
    }

    /**
     * A refusal when an absolute-form request target (http://host/...) names another host than the Host header:
     * the backend could honour either, so the two must agree. Null when fine or not absolute-form.
     */
    static String targetProblem(HttpRequest request, String host) {
        String uri = request.uri();
        int schemeEnd = uri.indexOf("://");
        if (schemeEnd < 0 || uri.startsWith("/")) return null;
        String scheme = uri.substring(0, schemeEnd);
        if (!scheme.equalsIgnoreCase("http") && !scheme.equalsIgnoreCase("https")) {
            return "the request target is malformed";
        }
        int authorityEnd = uri.length();
        for (char end : new char[] {'/', '?', '#'}) {
            int at = uri.indexOf(end, schemeEnd + 3);
            if (at >= 0) authorityEnd = Math.min(authorityEnd, at);
        }
        String authority = uri.substring(schemeEnd + 3, authorityEnd);
        String targetHost = authority.contains("@") ? null : hostName(authority);
        return host.equals(targetHost) ? null : "the request target's host does not match the Host header";
    }

    /** The declared body length, -1 when none is declared (validated by {@link #framingProblem} first). */
    static long declaredLength(HttpRequest request) {
        String value = request.headers().get(HttpHeaderNames.CONTENT_LENGTH);
        if (value == null) return -1;
        try {
            return Long.parseLong(value.strip());
        } catch (NumberFormatException tooLong) {
            return Long.MAX_VALUE;
        }
    }

    static boolean isChunked(HttpMessage message) {
        return message.headers().contains(HttpHeaderNames.TRANSFER_ENCODING);
    }

    /**
     * The host name of a Host header value: without port, lower-case, no trailing dot; null when malformed.
     */
    static String hostName(String value) {
        String v = value.strip();
        if (v.isEmpty()) return null;
        String name;
        String port;
        if (v.charAt(0) == '[') {
            int end = v.indexOf(']');
            if (end < 0) return null;
            name = v.substring(0, end + 1);
            port = v.substring(end + 1);
            if (!name.substring(1, name.length() - 1).chars().allMatch(c -> c == ':' || c == '.' || Character.digit(c, 16) >= 0)) {
                return null;
            }
        } else {
            int colon = v.indexOf(':');
            name = colon < 0 ? v : v.substring(0, colon);
            port = colon < 0 ? "" : v.substring(colon);
            for (int i = 0; i < name.length(); i++) {
                if (!isRegNameChar(name.charAt(i))) return null;
            }
        }
        if (!port.isEmpty() && (port.charAt(0) != ':' || !isDigits(port.substring(1)) || port.length() > 6)) return null;
        name = name.toLowerCase(Locale.ROOT);
        if (name.endsWith(".")) name = name.substring(0, name.length() - 1);
        return name.isEmpty() ? null : name;
    }

    /** GET with Upgrade: websocket (the only upgrade the gateway relays). */
    static boolean isWebSocketUpgrade(HttpRequest request) {
        String upgrade = request.headers().get(HttpHeaderNames.UPGRADE);
        return upgrade != null && upgrade.strip().equalsIgnoreCase(WEBSOCKET)
                && request.headers().containsValue(HttpHeaderNames.CONNECTION, "upgrade", true);
    }

    /**
     * Rewrites the request headers in place for the backend: hop-by-hop headers out, X-Forwarded-* in, Host kept.
     */
    static void prepareForBackend(HttpRequest request, boolean webSocket, String clientIp, boolean tls, int externalPort) {
        HttpHeaders headers = request.headers();
        removeHopByHop(headers);
        if (webSocket) {
            headers.set(HttpHeaderNames.CONNECTION, "Upgrade");
            headers.set(HttpHeaderNames.UPGRADE, WEBSOCKET);
        }
        String chain = clientIp;
        if (headers.contains(X_FORWARDED_FOR)) {
            chain = String.join(", ", headers.getAll(X_FORWARDED_FOR)) + ", " + clientIp;
        }
        headers.set(X_FORWARDED_FOR, chain);
        headers.set(X_FORWARDED_PROTO, tls ? HTTPS : HTTP);
        headers.set(X_FORWARDED_HOST, headers.get(HttpHeaderNames.HOST));
        headers.set(X_FORWARDED_PORT, externalPort);
        request.setProtocolVersion(HttpVersion.HTTP_1_1);
    }

    /** Removes Connection, the headers it names, and the fixed hop-by-hop set (not Transfer-Encoding: framing). */
    static void removeHopByHop(HttpHeaders headers) {
        if (headers.contains(HttpHeaderNames.CONNECTION)) removeNamedByConnection(headers);
        headers.remove(HttpHeaderNames.CONNECTION);
        headers.remove(HttpHeaderNames.KEEP_ALIVE);
        headers.remove(PROXY_CONNECTION);
        headers.remove(HttpHeaderNames.TE);
        headers.remove(HttpHeaderNames.TRAILER);
        headers.remove(HttpHeaderNames.UPGRADE);
        headers.remove(HttpHeaderNames.PROXY_AUTHORIZATION);
    }

    private static void removeNamedByConnection(HttpHeaders headers) {
        for (String connection : headers.getAll(HttpHeaderNames.CONNECTION)) {
            for (String token : connection.split(",")) {
                String name = token.strip();
                if (!name.isEmpty() && !name.equalsIgnoreCase(HttpHeaderNames.TRANSFER_ENCODING.toString())
                        && !name.equalsIgnoreCase(HttpHeaderNames.CONTENT_LENGTH.toString())
                        && !name.equalsIgnoreCase(HttpHeaderNames.HOST.toString())) {
                    headers.remove(name);
                }
            }
        }
    }

    private static boolean isDigits(String s) {
        if (s.isEmpty() || s.length() > 18) return false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') return false;
        }
        return true;
    }

    private static boolean isRegNameChar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || c == '-' || c == '.' || c == '_' || c == '~';
    }
}
