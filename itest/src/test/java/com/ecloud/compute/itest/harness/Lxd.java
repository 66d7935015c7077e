package com.ecloud.compute.itest.harness;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Assumptions;

import com.fasterxml.jackson.databind.JsonNode;

/** LXD on this machine, asked directly over its unix socket (curl), behind the platform's back. */
public final class Lxd {

    public static final String SOCKET = "/var/lib/lxd/unix.socket";

    private Lxd() {
    }

    /** Fails (ECLOUD_REQUIRE_ENGINES=true) or skips when LXD does not answer. */
    public static void require() {
        if (Files.exists(Path.of(SOCKET)) && get("/1.0").isPresent()) return;
        if (Boolean.parseBoolean(System.getenv("ECLOUD_REQUIRE_ENGINES"))) {
            fail("LXD does not answer on " + SOCKET + " (scripts/lxd-host.sh)");
        }
        Assumptions.abort("no LXD on " + SOCKET);
    }

    /** The {@code metadata} of a GET, or empty when LXD answers an error. */
    public static Optional<JsonNode> get(String path) {
        return request("GET", path, null);
    }

    public static Optional<JsonNode> request(String method, String path, String json) {
        List<String> command = new ArrayList<>(List.of("curl", "-s", "--max-time", "60", "--unix-socket", SOCKET,
                "-X", method));
        if (json != null) command.addAll(List.of("-H", "Content-Type: application/json", "-d", json));
        command.add("http://lxd" + path);
        Command.Result r = Command.run(Duration.ofSeconds(90), command);
        if (r.exitCode() != 0) return Optional.empty();
        try {
            JsonNode answer = Api.JSON.readTree(r.stdout());
            if ("error".equals(answer.path("type").asText())) return Optional.empty();
            if ("async".equals(answer.path("type").asText())) {
                return get(answer.path("operation").asText() + "/wait?timeout=60").map(op -> op);
            }
            return Optional.of(answer.path("metadata"));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** The instance's status (Running, Stopped), or empty when LXD has no such instance. */
    public static Optional<String> status(String instance) {
        return get("/1.0/instances/" + instance).map(i -> i.path("status").asText());
    }

    /** Names of the custom volumes in the pool that start with {@code prefix}. */
    public static List<String> volumes(String pool, String prefix) {
        List<String> names = new ArrayList<>();
        get("/1.0/storage-pools/" + pool + "/volumes/custom?recursion=1").ifPresent(all -> all.forEach(v -> {
            if (v.path("name").asText().startsWith(prefix)) names.add(v.path("name").asText());
        }));
        return names;
    }

    /** Stops and deletes every instance and custom volume whose name starts with {@code prefix}. */
    public static void sweep(String pool, String prefix) {
        get("/1.0/instances?recursion=1").ifPresent(all -> all.forEach(i -> {
            String name = i.path("name").asText();
            if (!name.startsWith(prefix)) return;
            request("PUT", "/1.0/instances/" + name + "/state", "{\"action\":\"stop\",\"force\":true}");
            request("DELETE", "/1.0/instances/" + name, null);
        }));
        for (String volume : volumes(pool, prefix)) {
            request("DELETE", "/1.0/storage-pools/" + pool + "/volumes/custom/" + volume, null);
        }
    }
}
