package com.ecloud.compute.itest.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * HTTP client of the Compute API for one caller (a bearer token, or none). Every response it reads is checked
 * for leaked Java internals (stack frames, exception class names): no response may ever carry them.
 */
public final class Api {

    public static final ObjectMapper JSON = new ObjectMapper();

    // "at com.x.Y.m(Y.java:12)", "java.lang.IllegalStateException", "FooException:", "org.glassfish..."
    private static final List<Pattern> LEAKS = List.of(
            Pattern.compile("\\bat [\\w$.]+\\([\\w$.]*(?::\\d+)?\\)"),
            Pattern.compile("\\b(?:java|javax|jakarta|org|com|sun)\\.[\\w$.]*[A-Z][\\w$]*(?:Exception|Error)\\b"),
            Pattern.compile("\\b[A-Z][\\w$]*(?:Exception|Throwable)\\b"),
            Pattern.compile("\\bjava\\.(?:lang|util|io|net)\\.[A-Z]"),
            Pattern.compile("\\borg\\.(?:glassfish|eclipse\\.jetty|apache\\.felix)\\b"));

    private static final HttpClient SHARED = newClient();

    private final URI base;
    private final String token;
    private final HttpClient http;

    public Api(URI base, String token) {
        this(base, token, SHARED);
    }

    private Api(URI base, String token, HttpClient http) {
        this.base = base;
        this.token = token;
        this.http = http;
    }

    private static HttpClient newClient() {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
    }

    /** The same caller on its own connection pool: what one request does to a kept-alive connection shows. */
    public Api withOwnConnections() {
        return new Api(base, token, newClient());
    }

    public URI base() {
        return base;
    }

    public String token() {
        return token;
    }

    /** The same server as another caller. */
    public Api as(String otherToken) {
        return new Api(base, otherToken, http);
    }

    public Resp get(String path) {
        return send("GET", path, null, null, Map.of());
    }

    public Resp delete(String path) {
        return send("DELETE", path, null, null, Map.of());
    }

    /** POST without a body. */
    public Resp post(String path) {
        return send("POST", path, null, null, Map.of());
    }

    /** POST of {@code body} as application/json: a String is sent as it is, anything else through Jackson. */
    public Resp post(String path, Object body) {
        return send("POST", path, bytes(body), "application/json", Map.of());
    }

    public Resp put(String path, Object body) {
        return send("PUT", path, bytes(body), "application/json", Map.of());
    }

    /** Any request, with the bearer token of this caller unless {@code headers} names an Authorization. */
    public Resp send(String method, String path, byte[] body, String contentType, Map<String, String> headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(120));
        boolean explicitAuth = headers.keySet().stream().anyMatch(h -> h.equalsIgnoreCase("Authorization"));
        if (token != null && !explicitAuth) b.header("Authorization", "Bearer " + token);
        headers.forEach(b::header);
        if (contentType != null) b.header("Content-Type", contentType);
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        HttpRequest request = b.build();
        try {
            HttpResponse<byte[]> r = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
            Resp resp = new Resp(method + " " + path, r.statusCode(), new String(r.body(), StandardCharsets.UTF_8), r.headers());
            resp.assertNoInternals();
            return resp;
        } catch (IOException e) {
            throw new UncheckedIOException(method + " " + path + " failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    static byte[] bytes(Object body) {
        if (body == null) return null;
        if (body instanceof byte[] raw) return raw;
        if (body instanceof String s) return s.getBytes(StandardCharsets.UTF_8);
        try {
            return JSON.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(e);
        }
    }

    /** A JSON object literal in order: {@code obj("name", "x", "memory_mb", 512)}. */
    public static Map<String, Object> obj(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return m;
    }

    /** One HTTP answer. */
    public static final class Resp {
        private final String request;
        private final int status;
        private final String body;
        private final HttpHeaders headers;
        private JsonNode json;

        Resp(String request, int status, String body, HttpHeaders headers) {
            this.request = request;
            this.status = status;
            this.body = body;
            this.headers = headers;
        }

        public int status() {
            return status;
        }

        public String body() {
            return body;
        }

        public HttpHeaders headers() {
            return headers;
        }

        public JsonNode json() {
            if (json == null) {
                try {
                    json = JSON.readTree(body);
                } catch (IOException e) {
                    throw new AssertionError(this + ": body is not JSON", e);
                }
                if (json == null) throw new AssertionError(this + ": empty body where JSON was expected");
            }
            return json;
        }

        /** Fails unless the status is {@code expected}; returns the JSON body. */
        public JsonNode expect(int expected) {
            assertEquals(expected, status, () -> "unexpected status of " + this);
            return body.isEmpty() ? null : json();
        }

        /**
         * Fails unless this is an error of that status in the one error shape: a JSON object with a non-blank
         * "error" string, and for 5xx an "error_id" too, nothing else.
         */
        public String expectError(int expected) {
            assertEquals(expected, status, () -> "unexpected status of " + this);
            String contentType = headers.firstValue("Content-Type").orElse("");
            assertTrue(contentType.startsWith("application/json"), () -> "error is not sent as JSON (" + contentType + "): " + this);
            JsonNode j = json();
            assertTrue(j.isObject(), () -> "error body is not an object: " + this);
            assertTrue(j.path("error").isTextual() && !j.path("error").asText().isBlank(), () -> "no error message: " + this);
            List<String> names = new ArrayList<>();
            for (Iterator<String> it = j.fieldNames(); it.hasNext();) names.add(it.next());
            List<String> allowed = status >= 500 ? List.of("error", "error_id") : List.of("error");
            assertTrue(allowed.containsAll(names), () -> "error body has other fields than " + allowed + ": " + this);
            if (status >= 500) assertTrue(j.path("error_id").isTextual(), () -> "5xx without error_id: " + this);
            return j.path("error").asText();
        }

        void assertNoInternals() {
            for (Pattern p : LEAKS) {
                assertFalse(p.matcher(body).find(), () -> "response leaks Java internals (" + p + "): " + this);
            }
        }

        @Override
        public String toString() {
            String shown = body.length() > 2000 ? body.substring(0, 2000) + "...(" + body.length() + " chars)" : body;
            return request + " -> " + status + " " + shown;
        }
    }
}
