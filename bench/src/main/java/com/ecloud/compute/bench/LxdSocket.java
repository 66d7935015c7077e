package com.ecloud.compute.bench;

import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;

/**
 * LXD's REST API over its unix socket, as a hand-written client would speak it ({@link UnixHttp}: one connection
 * per request, each with a deadline). Answers are LXD's envelopes ({@code sync}, {@code async},
 * {@code error}); {@link #call} waits for the operation of an {@code async} one.
 */
final class LxdSocket {

    /** Seconds per {@code /wait} request; LXD answers 200 with the operation still running when they pass. */
    private static final int WAIT_STEP_SECONDS = 30;

    record Reply(int status, String body) {
        Map<String, Object> json() {
            return Json.object(body);
        }

        Reply expect(int... statuses) throws IOException {
            for (int s : statuses) if (s == status) return this;
            throw new IOException("LXD answered " + status + ": " + Json.abbreviate(body.trim()));
        }
    }

    private final UnixHttp http;

    LxdSocket(Path socket, ScheduledExecutorService watchdog, Duration timeout) {
        this.http = new UnixHttp(socket, watchdog, timeout, "lxd", "");
    }

    /** A path segment (instance, volume or alias name): percent-encoded, '/' included. */
    static String segment(String name) {
        return URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** GET of a sync resource: its {@code metadata}, or null when LXD answers 404. */
    Object getOrNull(String path) throws IOException {
        Reply reply = request("GET", path, null, null, Map.of());
        if (reply.status() == 404) return null;
        return reply.expect(200).json().get("metadata");
    }

    /**
     * A request with a JSON body (null: none): for a sync answer its {@code metadata}, for an async one the
     * operation's metadata once it has ended with Success; anything else is an IOException with LXD's text.
     */
    Object call(String method, String path, String jsonBody) throws IOException {
        Reply reply = request(method, path, jsonBody == null ? null : "application/json",
                jsonBody == null ? null : jsonBody.getBytes(StandardCharsets.UTF_8), Map.of());
        Map<String, Object> envelope = reply.json();
        if ("error".equals(envelope.get("type")) || reply.status() >= 300) {
            throw new IOException(method + " " + path + ": LXD answered " + reply.status() + ": " + envelope.get("error"));
        }
        if ("async".equals(envelope.get("type"))) return awaitOperation(method + " " + path, (String) envelope.get("operation"));
        return envelope.get("metadata");
    }

    /** Waits for an operation to end; its metadata on Success, an IOException with its error otherwise. */
    @SuppressWarnings("unchecked")
    Map<String, Object> awaitOperation(String action, String operation) throws IOException {
        if (operation == null || operation.isEmpty()) throw new IOException(action + ": LXD named no operation");
        for (int step = 0; step < 20; step++) {
            Object op = request("GET", operation + "/wait?timeout=" + WAIT_STEP_SECONDS, null, null, Map.of())
                    .expect(200).json().get("metadata");
            String status = String.valueOf(Json.at(op, "status"));
            switch (status) {
                case "Running", "Pending", "Started", "Created" -> {
                    // the wait step expired: ask again
                }
                case "Success" -> {
                    return (Map<String, Object>) op;
                }
                default -> throw new IOException(action + ": " + status + ": " + Json.at(op, "err"));
            }
        }
        throw new IOException(action + ": still running after " + 20 * WAIT_STEP_SECONDS + " s");
    }

    /** Any request, with a body of any type (null: none) and extra headers. */
    Reply request(String method, String path, String contentType, byte[] requestBody, Map<String, String> headers)
            throws IOException {
        UnixHttp.Reply reply = http.exchange(method, path, contentType, requestBody, headers);
        return new Reply(reply.status(), reply.text());
    }
}
