package com.ecloud.compute.runtime.lxd.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import com.ecloud.compute.api.runtime.RuntimeNotFoundException;
import com.ecloud.compute.api.runtime.RuntimeRejectedException;
import com.ecloud.compute.api.runtime.RuntimeUnavailableException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** LxdClient against the real daemon: envelopes, operations, typed errors, the files API. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(120)
class LxdClientTest {

    private LxdClient client;

    @BeforeAll
    void connect() {
        TestLxd.require();
        client = TestLxd.client();
        TestLxd.sweep(client);
    }

    @AfterAll
    void disconnect() {
        if (client == null) return;
        TestLxd.sweep(client);
        client.close();
    }

    @Test
    void syncAnswersGiveTheirMetadata() {
        JsonNode server = client.get("/1.0");
        assertEquals("1.0", server.path("api_version").asText());
        assertEquals("trusted", server.path("auth").asText());
        assertTrue(server.path("environment").path("architectures").size() > 0, server::toString);
    }

    @Test
    void errorsAreTyped() {
        RuntimeNotFoundException missing = assertThrows(RuntimeNotFoundException.class,
                () -> client.get("/1.0/instances/ectest-none"));
        assertTrue(missing.getMessage().contains("Instance not found"), missing::getMessage);
        RuntimeRejectedException badName = assertThrows(RuntimeRejectedException.class,
                () -> client.call("POST", "/1.0/instances", Map.of("name", "ectest-bad_name!",
                        "source", Map.of("type", "image", "alias", TestLxd.SMALL_IMAGE))));
        assertTrue(LxdClient.lxdError(badName, "Invalid instance name"), badName::getMessage);
        assertThrows(RuntimeNotFoundException.class, () -> client.call("POST", "/1.0/instances",
                Map.of("name", "ectest-noimage", "source", Map.of("type", "image", "alias", "ecloud/none:none"))));
    }

    @Test
    void aMissingSocketIsUnavailable() {
        try (LxdClient nowhere = new LxdClient(Path.of("/tmp/ecloud-no-such-lxd.socket"), new ObjectMapper())) {
            RuntimeUnavailableException e = assertThrows(RuntimeUnavailableException.class, () -> nowhere.get("/1.0"));
            assertTrue(e.getMessage().contains("cannot be reached"), e::getMessage);
        }
    }

    @Test
    void asyncOperationsAreAwaitedAndTheirFailuresTyped() {
        String name = TestLxd.TEST_PREFIX + "client-" + TestLxd.newId();
        JsonNode created = client.call("POST", "/1.0/instances", Map.of("name", name, "type", "container",
                "source", Map.of("type", "image", "alias", TestLxd.SMALL_IMAGE)));
        assertEquals("Success", created.path("status").asText(), created::toString);
        assertEquals("Stopped", client.get("/1.0/instances/" + name).path("status").asText());

        client.call("PUT", "/1.0/instances/" + name + "/state", Map.of("action", "start", "timeout", 30));
        assertEquals("Running", client.get("/1.0/instances/" + name).path("status").asText());
        // a failure inside an operation comes back from /wait as a sync answer with status Failure
        RuntimeRejectedException again = assertThrows(RuntimeRejectedException.class,
                () -> client.call("PUT", "/1.0/instances/" + name + "/state", Map.of("action", "start")));
        assertTrue(LxdClient.lxdError(again, "already running"), again::getMessage);
        RuntimeRejectedException busy = assertThrows(RuntimeRejectedException.class,
                () -> client.call("DELETE", "/1.0/instances/" + name, null));
        assertTrue(LxdClient.lxdError(busy, "running"), busy::getMessage);

        // files: the octet-stream content type keeps the body (LXD-NOTES pitfall 7)
        byte[] content = "line one\nline two\n".getBytes(StandardCharsets.UTF_8);
        // a missing parent is 404 (the runtime's writeFile makes parents itself)
        assertThrows(RuntimeNotFoundException.class, () -> client.pushDirectory(name, "/srv/probe", 0750));
        client.pushDirectory(name, "/srv", 0755);
        client.pushDirectory(name, "/srv/probe", 0750);
        client.pushFile(name, "/srv/probe/f.txt", content, 0640);
        assertArrayEquals(content, client.fetch("/1.0/instances/" + name + "/files?path=/srv/probe/f.txt"));
        assertTrue(client.fileExists(name, "/srv/probe"));
        assertFalse(client.fileExists(name, "/srv/none"));
        assertEquals("750 0 0\n640 0 0\n",
                TestLxd.execOk(client, name, "stat", "-c", "%a %u %g", "/srv/probe", "/srv/probe/f.txt"));

        client.call("PUT", "/1.0/instances/" + name + "/state", Map.of("action", "stop", "force", true));
        client.call("DELETE", "/1.0/instances/" + name, null);
        assertThrows(RuntimeNotFoundException.class, () -> client.get("/1.0/instances/" + name));
    }
}
