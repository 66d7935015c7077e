package com.ecloud.compute.itest.harness;

import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

/** Common steps through the API: keys, containers, waiting for a status. */
public final class Fixtures {

    public static final String BUSYBOX = "ecloud/busybox:latest";
    public static final String DEBIAN = "ecloud/debian:bookworm";
    /** arm64 under qemu is slow to start; amd64 is native. */
    public static final Duration RUNNING_TIMEOUT = Duration.ofSeconds(180);

    private Fixtures() {
    }

    /** Adds a fresh ed25519 key and returns its id. */
    public static long addKey(Api api, String name) {
        JsonNode k = api.post("/compute/ssh-keys", Api.obj("name", name, "public_key", SshKeys.ed25519(name + "@itest"))).expect(201);
        return k.path("id").asLong();
    }

    /** POST /compute/containers, expecting 201; returns the container. */
    public static JsonNode create(Api api, Map<String, Object> body) {
        return api.post("/compute/containers", body).expect(201);
    }

    /** A small amd64 busybox container (fast to start), 201 expected. */
    public static JsonNode createBusybox(Api api, String name, long keyId) {
        return create(api, Api.obj("name", name, "instance_type", "tiny", "image", BUSYBOX, "ssh_key_ids", List.of(keyId)));
    }

    /** A new key and a busybox container with it, running; returns the container's id. */
    public static String runningBusybox(Api api, String name) {
        String id = createBusybox(api, name, addKey(api, name + "-key")).path("id").asText();
        awaitRunning(api, id);
        return id;
    }

    public static JsonNode get(Api api, String id) {
        return api.get("/compute/containers/" + id).expect(200);
    }

    /** Polls GET until the status is {@code status}; fails early when it is failed and that was not asked for. */
    public static JsonNode awaitStatus(Api api, String id, String status, Duration timeout) {
        JsonNode c = Poll.until("container " + id + " to be " + status, timeout, Duration.ofMillis(500),
                () -> get(api, id), j -> j.path("status").asText().equals(status)
                        || (!status.equals("failed") && j.path("status").asText().equals("failed")));
        assertNotEquals("failed", status.equals("failed") ? "" : c.path("status").asText(),
                () -> "container " + id + " failed while waiting for " + status + ": " + c);
        return c;
    }

    public static JsonNode awaitRunning(Api api, String id) {
        return awaitStatus(api, id, "running", RUNNING_TIMEOUT);
    }

    public static List<JsonNode> list(Api api) {
        List<JsonNode> all = new ArrayList<>();
        api.get("/compute/containers").expect(200).path("containers").forEach(all::add);
        return all;
    }

    public static List<String> ids(Api api) {
        return list(api).stream().map(c -> c.path("id").asText()).toList();
    }

    /** Deletes every container of this caller (best effort, for tests that need a clean quota). */
    public static void deleteAll(Api api) {
        for (String id : ids(api)) api.delete("/compute/containers/" + id);
    }
}
