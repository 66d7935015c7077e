package com.ecloud.compute.core.internal.rest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;

import org.junit.jupiter.api.Test;

import com.ecloud.compute.core.internal.http.ApiException;

class ValidationTest {

    private static int status(Runnable r) {
        return assertThrows(ApiException.class, r::run).status();
    }

    @Test
    void namesFollowTheContract() {
        assertEquals("my-app_1.2", Validation.containerName("my-app_1.2"));
        assertEquals("a".repeat(63), Validation.containerName("a".repeat(63)));
        assertEquals(400, status(() -> Validation.containerName("")));
        assertEquals(400, status(() -> Validation.containerName("a".repeat(64))));
        assertEquals(400, status(() -> Validation.containerName("my app")));
        assertEquals(400, status(() -> Validation.containerName("ünïcode")));
    }

    @Test
    void mountPathsAreAbsoluteNormalisedAndSafe() {
        assertEquals(List.of("/root", "/var/data"), Validation.mountPaths(List.of("/root", "/var/data")));
        assertEquals(400, status(() -> Validation.mountPaths(List.of("root"))));
        assertEquals(400, status(() -> Validation.mountPaths(List.of("/root/../etc"))));
        assertEquals(400, status(() -> Validation.mountPaths(List.of("/root/./x"))));
        assertEquals(400, status(() -> Validation.mountPaths(List.of("/root/"))));
        assertEquals(400, status(() -> Validation.mountPaths(List.of("/root//x"))));
        assertEquals(422, status(() -> Validation.mountPaths(List.of("/"))));
        assertEquals(422, status(() -> Validation.mountPaths(List.of("/proc/x"))));
        assertEquals(422, status(() -> Validation.mountPaths(List.of())));
        assertEquals(422, status(() -> Validation.mountPaths(List.of("/a", "/a"))));
    }

    @Test
    void ingressPortsAreTheContractsOnly() {
        assertEquals(80, Validation.ingressPort(80));
        assertEquals(443, Validation.ingressPort(443));
        assertEquals(8000, Validation.ingressPort(8000));
        assertEquals(8999, Validation.ingressPort(8999));
        assertEquals(422, status(() -> Validation.ingressPort(22)));
        assertEquals(422, status(() -> Validation.ingressPort(9000)));
        assertEquals(422, status(() -> Validation.targetPort(0)));
        assertEquals(422, status(() -> Validation.targetPort(65536)));
    }

    @Test
    void rangesAreInclusive() {
        assertEquals(128, Validation.range("memory_mb", 128, 128, 16384));
        assertEquals(422, status(() -> Validation.range("memory_mb", 127, 128, 16384)));
    }
}
