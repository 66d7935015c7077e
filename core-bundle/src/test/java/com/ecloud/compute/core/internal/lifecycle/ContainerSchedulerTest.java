package com.ecloud.compute.core.internal.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.junit.jupiter.api.Test;

import com.ecloud.compute.api.model.Arch;
import com.ecloud.compute.api.runtime.Fingerprint;
import com.ecloud.compute.api.runtime.Health;

class ContainerSchedulerTest {

    private final ContainerScheduler scheduler = new ContainerScheduler();

    private static Fingerprint host(String name, Set<Arch> arches, long memoryMb, Health health) {
        return new Fingerprint("docker", name, arches, 2, memoryMb, health, null);
    }

    @Test
    void picksAHealthyHostOfTheArchWithTheMostFreeMemory() {
        var a = host("a", Set.of(Arch.AMD64), 4096, Health.HEALTHY);
        var b = host("b", Set.of(Arch.AMD64, Arch.ARM64), 8192, Health.HEALTHY);
        var c = host("c", Set.of(Arch.ARM64), 16384, Health.UNHEALTHY);
        assertEquals(Optional.of("b"), scheduler.place(List.of(a, b, c), Map.of(), Arch.ARM64, 512));
        assertEquals(Optional.of("b"), scheduler.place(List.of(a, b, c), Map.of(), Arch.AMD64, 512));
        assertEquals(Optional.of("a"), scheduler.place(List.of(a, b, c), Map.of("b", 6000L), Arch.AMD64, 512));
    }

    @Test
    void neverOvercommitsMemory() {
        var a = host("a", Set.of(Arch.AMD64), 1024, Health.HEALTHY);
        assertEquals(Optional.of("a"), scheduler.place(List.of(a), Map.of("a", 512L), Arch.AMD64, 512));
        assertEquals(Optional.empty(), scheduler.place(List.of(a), Map.of("a", 513L), Arch.AMD64, 512));
        assertTrue(scheduler.whyNot(List.of(a), Map.of("a", 1024L), Arch.AMD64, 512).contains("memory"));
        assertTrue(scheduler.whyNot(List.of(a), Map.of(), Arch.ARM64, 512).contains("arm64"));
    }

    @Test
    void containerIdsAreEightLowercaseAlphanumerics() {
        ContainerIds ids = new ContainerIds();
        for (int i = 0; i < 1000; i++) assertTrue(ContainerIds.isValid(ids.next()));
        assertTrue(!ContainerIds.isValid("ABCDEFGH") && !ContainerIds.isValid("abc") && !ContainerIds.isValid("abcd-fgh"));
    }
}
