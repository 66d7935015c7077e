package com.ecloud.compute.runtime.lxd.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import com.ecloud.compute.api.model.Arch;
import com.ecloud.compute.api.runtime.ContainerSpec;
import com.ecloud.compute.api.runtime.Fingerprint;
import com.ecloud.compute.api.runtime.Health;
import com.ecloud.compute.api.runtime.RuntimeFailure;
import com.fasterxml.jackson.databind.JsonNode;

/** Who gets in over HTTPS: a trusted client certificate does, an unknown one and a wrong server pin do not. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(180)
class LxdRemoteTest {

    private LxdClient local;
    private TestLxdRemote.Identity trusted;
    private TestLxdRemote.Identity stranger;

    @BeforeAll
    void identities() throws Exception {
        TestLxd.require();
        local = TestLxd.client();
        trusted = TestLxdRemote.identity(local, Path.of("target", "lxd-remote"), "trusted", true);
        stranger = TestLxdRemote.identity(local, Path.of("target", "lxd-remote"), "stranger", false);
    }

    @AfterAll
    void cleanUp() {
        if (local == null) return;
        TestLxdRemote.untrust(local, trusted);
        TestLxd.sweep(local);
        local.close();
    }

    @Test
    void aTrustedCertificateGetsInAndItsRequestsArriveOverTls() throws Exception {
        try (LxdRuntime runtime = new LxdRuntime(TestLxdRemote.config("remote-trusted", trusted))) {
            Fingerprint fingerprint = runtime.fingerprint();
            assertEquals(Health.HEALTHY, fingerprint.health(), fingerprint::toString);
            assertTrue(fingerprint.arches().contains(Arch.AMD64), fingerprint::toString);
            String id = TestLxd.newId();
            runtime.create(new ContainerSpec(id, "owner-r", TestLxd.SMALL_IMAGE, Arch.AMD64, 500, 128, 1, List.of(),
                    List.of(), Map.of("ecloud.test", "true")));
            try {
                // the runtime's socket path does not exist: the instance can only have come over HTTPS
                JsonNode instance = local.get("/1.0/instances/" + TestLxd.TEST_PREFIX + id);
                assertEquals("true", instance.path("config").path(LxdRuntime.KEY_MANAGED).asText());
                assertEquals(id, runtime.inspect(id).containerId());
            } finally {
                runtime.removeStorage(id);
            }
        }
    }

    @Test
    void anUnknownCertificateIsRefused() {
        try (LxdRuntime runtime = new LxdRuntime(TestLxdRemote.config("remote-stranger", stranger))) {
            Fingerprint fingerprint = runtime.fingerprint();
            assertNotEquals(Health.HEALTHY, fingerprint.health());
            assertTrue(fingerprint.reason().contains("does not trust"), fingerprint::toString);
            assertThrows(RuntimeFailure.class, () -> runtime.inspect("abcdefgh"));
        }
    }

    @Test
    void aServerWithAnotherCertificateIsNotSpokenTo() {
        // the pin names the client's own certificate: LXD's is not it, so the TLS handshake fails
        TestLxdRemote.Identity wrongPin = new TestLxdRemote.Identity(trusted.certificate(), trusted.key(),
                trusted.certificate(), null);
        try (LxdRuntime runtime = new LxdRuntime(TestLxdRemote.config("remote-wrong-pin", wrongPin))) {
            Fingerprint fingerprint = runtime.fingerprint();
            assertNotEquals(Health.HEALTHY, fingerprint.health());
            assertTrue(fingerprint.reason().contains("cannot be reached"), fingerprint::toString);
        }
    }

    @Test
    void aRemoteNeedsAllThreeFiles() {
        LxdRuntime.Config incomplete = TestLxd.config("remote-incomplete", "/nonexistent", TestLxdRemote.URL,
                trusted.certificate().toString(), "", trusted.serverCertificate().toString());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new LxdRuntime(incomplete));
        assertTrue(e.getMessage().contains("tls.client.key"), e::getMessage);
    }
}
