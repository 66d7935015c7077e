package com.ecloud.compute.runtime.lxd.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.annotation.Annotation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

import org.junit.jupiter.api.Assumptions;

import com.ecloud.compute.runtime.contract.ContainerRuntimeContract;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** What the LXD tests share: the daemon check, a configuration, a blocking exec straight on LXD's API. */
final class TestLxd {

    static final String SOCKET = "/var/lib/lxd/unix.socket";
    static final String SMALL_IMAGE = "ecloud/busybox:latest-amd64";
    /** Every instance and volume the tests make starts with this (leftovers are swept by it). */
    static final String TEST_PREFIX = "ectest-";

    private TestLxd() {
    }

    /** Fails (ECLOUD_REQUIRE_ENGINES=true) or skips when LXD does not answer with the small image. */
    static void require() {
        boolean available = Files.exists(Path.of(SOCKET));
        if (available) {
            try (LxdClient client = client()) {
                client.get("/1.0/images/aliases/" + LxdClient.segment(SMALL_IMAGE));
            } catch (RuntimeException e) {
                available = false;
            }
        }
        if (available) return;
        if (Boolean.parseBoolean(System.getenv(ContainerRuntimeContract.REQUIRE_ENGINES))) {
            fail("LXD at " + SOCKET + " with " + SMALL_IMAGE + " is required but missing (scripts/lxd-host.sh)");
        }
        Assumptions.abort("no LXD with " + SMALL_IMAGE + " (scripts/lxd-host.sh)");
    }

    static LxdClient client() {
        return new LxdClient(Path.of(SOCKET), new ObjectMapper());
    }

    static String newId() {
        String alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
        StringBuilder id = new StringBuilder("l");
        for (int i = 1; i < 8; i++) id.append(alphabet.charAt(ThreadLocalRandom.current().nextInt(alphabet.length())));
        return id.toString();
    }

    static LxdRuntime.Config config(String hostName, String socket) {
        return config(hostName, socket, "", "", "", "");
    }

    /** A remote LXD's configuration: url, client certificate and key, server certificate. */
    static LxdRuntime.Config config(String hostName, String socket, String url, String clientCertificate,
            String clientKey, String serverCertificate) {
        return new LxdRuntime.Config() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return LxdRuntime.Config.class;
            }

            @Override
            public String host_name() {
                return hostName;
            }

            @Override
            public String socket_path() {
                return socket;
            }

            @Override
            public String url() {
                return url;
            }

            @Override
            public String tls_client_certificate() {
                return clientCertificate;
            }

            @Override
            public String tls_client_key() {
                return clientKey;
            }

            @Override
            public String tls_server_certificate() {
                return serverCertificate;
            }

            @Override
            public String[] emulated_arches() {
                // this machine reached over HTTPS: binfmt_misc is not looked at for a remote host
                return url.isEmpty() ? new String[0] : new String[] {"arm64"};
            }

            @Override
            public String storage_pool() {
                return "ecloud";
            }

            @Override
            public String[] profiles() {
                return new String[] {"default"};
            }

            @Override
            public String instance_prefix() {
                return TEST_PREFIX;
            }

            @Override
            public String images_alias_prefix() {
                return "";
            }

            @Override
            public String[] images_allowed_prefixes() {
                return new String[0];
            }

            @Override
            public int pids_limit() {
                return 512;
            }

            @Override
            public int stop_grace_seconds() {
                return 5;
            }

            @Override
            public String log_directory() {
                return "target/kept-logs/" + hostName;
            }

            @Override
            public String expose_address() {
                return "127.0.0.1";
            }

            @Override
            public int expose_port_min() {
                return 20000;
            }

            @Override
            public int expose_port_max() {
                return 29999;
            }
        };
    }

    /** What a command run with LXD's recorded-output exec produced. */
    record Result(int exitCode, String stdout, String stderr) {
    }

    /** Runs a command in a running instance through LXD itself (the runtime's exec is not there yet). */
    static Result exec(LxdClient client, String instance, String... command) {
        LxdClient.CommandResult result = client.run(instance, List.of(command));
        return new Result(result.exitCode(), result.stdout(), result.stderr());
    }

    static String execOk(LxdClient client, String instance, String... command) {
        Result result = exec(client, instance, command);
        assertEquals(0, result.exitCode(), () -> List.of(command) + ": " + result);
        return result.stdout();
    }

    /** Deletes every instance and custom volume whose name starts with {@link #TEST_PREFIX}. */
    static void sweep(LxdClient client) {
        for (JsonNode instance : client.get("/1.0/instances?recursion=1")) {
            String name = instance.path("name").asText();
            if (!name.startsWith(TEST_PREFIX)) continue;
            try {
                if (!"Stopped".equals(instance.path("status").asText())) {
                    client.call("PUT", "/1.0/instances/" + name + "/state", Map.of("action", "stop", "force", true));
                }
                client.call("DELETE", "/1.0/instances/" + name, null);
            } catch (RuntimeException e) {
                System.err.println("sweeping " + name + ": " + e);
            }
        }
        for (JsonNode volume : client.get("/1.0/storage-pools/ecloud/volumes/custom?recursion=1")) {
            String name = volume.path("name").asText();
            if (!name.startsWith(TEST_PREFIX)) continue;
            try {
                client.call("DELETE", "/1.0/storage-pools/ecloud/volumes/custom/" + LxdClient.segment(name), null);
            } catch (RuntimeException e) {
                System.err.println("sweeping volume " + name + ": " + e);
            }
        }
    }
}
