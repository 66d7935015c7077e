package com.ecloud.compute.frameworktest;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** The Compute API over real HTTP, as one user (a bearer token), on a connection pool of its own. */
final class ComputeApi {

    static final ObjectMapper JSON = new ObjectMapper();
    /** Longer than any answer of a serving platform (a stop waits for its grace): beyond it a request hangs. */
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
    /** The status counted for a request that got no HTTP answer at all (timeout, refused, reset). */
    static final int NO_ANSWER = -1;

    private final URI base;
    private final String token;
    private final HttpClient http;

    ComputeApi(URI base, String token) {
        this.base = base;
        this.token = token;
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
    }

    /** The same user on separate connections (load threads must not share the checks' connection pool). */
    ComputeApi withOwnConnections() {
        return new ComputeApi(base, token);
    }

    record Answer(int status, String body) {
        JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (JsonProcessingException e) {
                throw new AssertionError("answer " + status + " is not JSON: " + body, e);
            }
        }

        /** The JSON body, when the status is the expected one; fails with the body otherwise. */
        JsonNode expect(int expected) {
            if (status != expected) throw new AssertionError("expected " + expected + " but got " + status + ": " + body);
            return json();
        }

        @Override
        public String toString() {
            return status + " " + body;
        }
    }

    Answer get(String path) {
        return send("GET", path, null);
    }

    Answer post(String path) {
        return send("POST", path, null);
    }

    Answer post(String path, Map<String, ?> body) {
        return send("POST", path, body);
    }

    Answer delete(String path) {
        return send("DELETE", path, null);
    }

    /** Never throws for a missing answer: it is a {@link #NO_ANSWER} for the caller to judge. */
    Answer send(String method, String path, Map<String, ?> body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve(path)).timeout(REQUEST_TIMEOUT);
        if (token != null) request.header("Authorization", "Bearer " + token);
        if (body == null) {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            request.header("Content-Type", "application/json");
            try {
                request.method(method, HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)));
            } catch (JsonProcessingException e) {
                throw new IllegalArgumentException(e);
            }
        }
        try {
            HttpResponse<String> r = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
            return new Answer(r.statusCode(), r.body());
        } catch (HttpTimeoutException e) {
            return new Answer(NO_ANSWER, method + " " + path + ": no answer within " + REQUEST_TIMEOUT.toSeconds() + " s");
        } catch (IOException e) {
            return new Answer(NO_ANSWER, method + " " + path + ": " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Answer(NO_ANSWER, method + " " + path + ": interrupted");
        }
    }

    /** A JSON object from alternating keys and values, in order. */
    static Map<String, Object> object(Object... keysAndValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) m.put((String) keysAndValues[i], keysAndValues[i + 1]);
        return m;
    }
}
