package com.ecloud.compute.runtime.docker.internal;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class RunsOwnCommandTest {

    @Test
    void aBareShellOrNothingMeansTheIdleProcess() {
        assertFalse(DockerRuntime.runsOwnCommand(null, null));
        assertFalse(DockerRuntime.runsOwnCommand(new String[0], new String[0]));
        assertFalse(DockerRuntime.runsOwnCommand(new String[] {"/bin/bash"}, null));
        assertFalse(DockerRuntime.runsOwnCommand(new String[] {"sh"}, null));
    }

    @Test
    void anyOtherCommandOrAnEntrypointRuns() {
        assertTrue(DockerRuntime.runsOwnCommand(new String[] {"nginx", "-g", "daemon off;"}, null));
        assertTrue(DockerRuntime.runsOwnCommand(new String[] {"sh", "-c", "serve"}, null));
        assertTrue(DockerRuntime.runsOwnCommand(new String[] {"/usr/bin/python3"}, null));
        assertTrue(DockerRuntime.runsOwnCommand(null, new String[] {"/entrypoint.sh"}));
    }
}
