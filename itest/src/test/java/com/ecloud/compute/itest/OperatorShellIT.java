package com.ecloud.compute.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import com.ecloud.compute.itest.harness.Api;
import com.ecloud.compute.itest.harness.Fixtures;
import com.ecloud.compute.itest.harness.OpenSsh;
import com.ecloud.compute.itest.harness.OperatorKey;
import com.ecloud.compute.itest.harness.PlatformExtension;
import com.ecloud.compute.itest.harness.PlatformProcess;

/**
 * The operators' remote shell: Gogo over SSH with the real OpenSSH client, for the keys in its configuration
 * only; the compute commands and Felix's own commands, one-shot and interactive.
 */
class OperatorShellIT {

    static final OperatorKey OPERATOR_KEY = OperatorKey.create();
    static final OpenSsh.Identity OPERATOR = OPERATOR_KEY.identity();
    static final Path KEYS = OPERATOR_KEY.keys();

    @RegisterExtension
    static final PlatformExtension platform = new PlatformExtension().config(OperatorKey.PID, OPERATOR_KEY.config());

    static OpenSsh ssh;

    @BeforeAll
    static void client() {
        ssh = OPERATOR_KEY.client();
    }

    @Test
    @Timeout(120)
    void oneShotComputeAndFelixCommands() {
        PlatformProcess p = platform.get();
        Api alice = p.newUserApi("op-alice");
        String id = Fixtures.createBusybox(alice, "watched", Fixtures.addKey(alice, "k")).path("id").asText();
        Fixtures.awaitRunning(alice, id);

        OpenSsh.Result hosts = ssh.ssh(OPERATOR, "operator", "compute:hosts");
        assertEquals(0, hosts.exitCode(), hosts::describe);
        assertTrue(hosts.stdout().contains("local") && hosts.stdout().contains("healthy")
                && hosts.stdout().contains("open"), hosts::describe);

        OpenSsh.Result list = ssh.ssh(OPERATOR, "operator", "compute:containers --status running");
        assertEquals(0, list.exitCode(), list::describe);
        assertTrue(list.stdout().contains(id) && list.stdout().contains("op-alice"), list::describe);

        OpenSsh.Result stop = ssh.ssh(OPERATOR, "operator", "compute:stop " + id);
        assertEquals(0, stop.exitCode(), stop::describe);
        assertTrue(stop.stdout().contains(id + " stopped"), stop::describe);
        assertEquals("stopped", Fixtures.get(alice, id).path("status").asText(), "the API sees the operator's stop");

        OpenSsh.Result bundles = ssh.ssh(OPERATOR, "operator", "lb");
        assertEquals(0, bundles.exitCode(), bundles::describe);
        assertTrue(bundles.stdout().contains("com.ecloud.compute.runtime.docker")
                || bundles.stdout().contains("ecloud compute Docker runtime"), bundles::describe);

        OpenSsh.Result wrong = ssh.ssh(OPERATOR, "operator", "compute:container zzzzzzzz");
        assertEquals(1, wrong.exitCode(), wrong::describe);
        assertTrue(wrong.stderr().contains("no such container"), wrong::describe);

        OpenSsh.Result token = ssh.ssh(OPERATOR, "operator", "compute:token op-bob");
        assertEquals(0, token.exitCode(), token::describe);
        Api bob = p.api(token.stdout().strip());
        bob.get("/compute/containers").expect(200);
        Fixtures.deleteAll(alice);
    }

    @Test
    @Timeout(120)
    void onlyConfiguredKeysGetIn() {
        OpenSsh.Identity stranger = OpenSsh.newKey(KEYS, "stranger");
        OpenSsh.Result refused = ssh.ssh(stranger, "operator", "lb");
        assertEquals(255, refused.exitCode(), refused::describe);
        assertTrue(refused.stderr().contains("Permission denied"), refused::describe);
        assertFalse(refused.stdout().contains("ecloud"), refused::describe);
    }

    @Test
    @Timeout(120)
    void interactiveShellWithLineEditing() {
        // -tt: a terminal even though our stdin is a pipe; typed: a command, a typo erased by backspaces, exit
        List<String> command = ssh.sshCommand(OPERATOR, "operator", List.of("-tt"));
        byte[] typed = "compute:hostz\u007fs\rexit\r".getBytes(StandardCharsets.UTF_8);
        OpenSsh.Result session = OpenSsh.run(command, typed);
        assertEquals(0, session.exitCode(), session::describe);
        String out = session.stdout();
        assertTrue(out.contains("ecloud> "), session::describe);
        assertTrue(out.contains("HOST") && out.contains("healthy"), session::describe);
    }
}
