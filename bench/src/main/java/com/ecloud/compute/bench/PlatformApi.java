package com.ecloud.compute.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The Compute API of the platform under test, as one user (one bearer token). */
final class PlatformApi {

    record Reply(int status, String body) {
        Map<String, Object> json() {
            return Json.object(body);
        }

        Reply expect(int... statuses) throws IOException {
            for (int s : statuses) if (s == status) return this;
            throw new IOException("API answered " + status + ": " + Json.abbreviate(body.trim()));
        }
    }

    private final HttpClient http;
    private final String base;
    private final String token;

    PlatformApi(HttpClient http, String base, String token) {
        this.http = http;
        this.base = base;
        this.token = token;
    }

    Reply get(String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(URI.create(base + path)).GET());
    }

    Reply post(String path, String json) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)));
    }

    Reply put(String path, String json) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(json)));
    }

    Reply delete(String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(URI.create(base + path)).DELETE());
    }

    /** The id of an SSH key of this user holding that public key (added if missing). */
    long sshKey(String publicKey) throws IOException, InterruptedException {
        Reply added = post("/compute/ssh-keys", "{\"name\":\"bench\",\"public_key\":" + Json.quote(publicKey) + "}");
        if (added.status() == 201) return ((Number) added.json().get("id")).longValue();
        added.expect(409); // already on the account
        Object keys = Json.parse(get("/compute/ssh-keys").expect(200).body());
        List<?> list = keys instanceof List<?> l ? l : (List<?>) Json.at(keys, "ssh_keys");
        String wanted = publicKey.trim().split("\\s+")[1];
        for (Object k : list) {
            Object pk = Json.at(k, "public_key");
            if (pk != null && pk.toString().contains(wanted)) return ((Number) Json.at(k, "id")).longValue();
        }
        throw new IOException("the key is on the account but not listed");
    }

    /** Creates a BusyBox container on tiny with that key and waits (at most 120 s) until the API says running. */
    String createRunningBusybox(long keyId, String name) throws IOException, InterruptedException {
        String body = "{\"name\":" + Json.quote(name) + ",\"instance_type\":\"tiny\",\"image\":\"ecloud/busybox:latest\""
                + ",\"ssh_key_ids\":[" + keyId + "],\"storage_gb\":1}";
        String id = (String) post("/compute/containers", body).expect(201).json().get("id");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        for (int i = 0; i < 10_000; i++) {
            String status = (String) get("/compute/containers/" + id).expect(200).json().get("status");
            if ("running".equals(status)) return id;
            if ("failed".equals(status) || System.nanoTime() > deadline) throw new IOException(id + " is " + status);
            Thread.sleep(50);
        }
        throw new IOException(id + " did not run");
    }

    /** Deletes every container of this user (leftovers of an interrupted run). */
    void deleteAll() throws IOException, InterruptedException {
        List<?> all = (List<?>) get("/compute/containers").expect(200).json().get("containers");
        for (Object c : all) delete("/compute/containers/" + Json.at(c, "id")).expect(200, 404);
    }

    private Reply send(HttpRequest.Builder request) throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(request.header("Authorization", "Bearer " + token)
                .timeout(Duration.ofSeconds(120)).build(), HttpResponse.BodyHandlers.ofString());
        return new Reply(response.statusCode(), response.body());
    }
}
