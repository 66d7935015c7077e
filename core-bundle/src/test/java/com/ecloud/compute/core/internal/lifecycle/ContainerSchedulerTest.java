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
import com.ecloud.compute.core.internal.lifecycle.ContainerScheduler.Demand;
import com.ecloud.compute.core.internal.lifecycle.ContainerScheduler.Reserved;

class ContainerSchedulerTest {

    private final ContainerScheduler scheduler = new ContainerScheduler(8.0, List.of());

    private static Fingerprint host(String name, Set<Arch> arches, long memoryMb, Health health) {
        return host("docker", name, arches, 2, memoryMb, health);
    }

    private static Fingerprint host(String type, String name, Set<Arch> arches, int cpus, long memoryMb, Health health) {
        return new Fingerprint(type, name, arches, cpus, memoryMb, health, null);
    }

    private static Reserved memory(Map<String, Long> memoryMb) {
        return new Reserved(memoryMb, Map.of());
    }

    private static Demand needs(Arch arch, int memoryMb) {
        return new Demand(arch, memoryMb, 1000);
    }

    @Test
    void picksAHealthyHostOfTheArchWithTheMostFreeMemory() {
        var a = host("a", Set.of(Arch.AMD64), 4096, Health.HEALTHY);
        var b = host("b", Set.of(Arch.AMD64, Arch.ARM64), 8192, Health.HEALTHY);
        var c = host("c", Set.of(Arch.ARM64), 16384, Health.UNHEALTHY);
        assertEquals(Optional.of("b"), scheduler.place(List.of(a, b, c), Reserved.none(), needs(Arch.ARM64, 512)));
        assertEquals(Optional.of("b"), scheduler.place(List.of(a, b, c), Reserved.none(), needs(Arch.AMD64, 512)));
        assertEquals(Optional.of("a"), scheduler.place(List.of(a, b, c), memory(Map.of("b", 6000L)), needs(Arch.AMD64, 512)));
    }

    @Test
    void neverOvercommitsMemory() {
        var a = host("a", Set.of(Arch.AMD64), 1024, Health.HEALTHY);
        assertEquals(Optional.of("a"), scheduler.place(List.of(a), memory(Map.of("a", 512L)), needs(Arch.AMD64, 512)));
        assertEquals(Optional.empty(), scheduler.place(List.of(a), memory(Map.of("a", 513L)), needs(Arch.AMD64, 512)));
        assertTrue(scheduler.whyNot(List.of(a), memory(Map.of("a", 1024L)), needs(Arch.AMD64, 512)).contains("memory"));
        assertTrue(scheduler.whyNot(List.of(a), Reserved.none(), needs(Arch.ARM64, 512)).contains("arm64"));
    }

    @Test
    void cpuIsPromisedUpToTheOvercommitOfTheHostsCores() {
        ContainerScheduler strict = new ContainerScheduler(1.5, List.of());
        var a = host("docker", "a", Set.of(Arch.AMD64), 2, 65536, Health.HEALTHY); // 3000 millis to promise
        Demand oneCore = new Demand(Arch.AMD64, 512, 1000);
        assertEquals(Optional.of("a"), strict.place(List.of(a), new Reserved(Map.of(), Map.of("a", 2000L)), oneCore));
        assertEquals(Optional.empty(), strict.place(List.of(a), new Reserved(Map.of(), Map.of("a", 2001L)), oneCore));
        String why = strict.whyNot(List.of(a), new Reserved(Map.of(), Map.of("a", 2500L)), oneCore);
        assertTrue(why.contains("CPU"), why);
        // the next host with room takes it
        var b = host("docker", "b", Set.of(Arch.AMD64), 1, 1024, Health.HEALTHY);
        assertEquals(Optional.of("b"), strict.place(List.of(a, b), new Reserved(Map.of(), Map.of("a", 3000L)), oneCore));
    }

    @Test
    void preferredRuntimeTypesComeFirstThenFreeMemory() {
        var docker = host("docker", "d", Set.of(Arch.AMD64), 2, 16384, Health.HEALTHY);
        var lxdSmall = host("lxd", "l1", Set.of(Arch.AMD64), 2, 2048, Health.HEALTHY);
        var lxdBig = host("lxd", "l2", Set.of(Arch.AMD64), 2, 4096, Health.HEALTHY);
        Demand demand = needs(Arch.AMD64, 512);
        // a .cfg line arrives as one element: "lxd, docker"
        ContainerScheduler lxdFirst = new ContainerScheduler(8.0, List.of("LXD, docker"));
        assertEquals(Optional.of("l2"), lxdFirst.place(List.of(docker, lxdSmall, lxdBig), Reserved.none(), demand));
        // a preferred type without room falls back to the next one
        assertEquals(Optional.of("d"), lxdFirst.place(List.of(docker, lxdSmall, lxdBig),
                memory(Map.of("l1", 2048L, "l2", 4096L)), demand));
        // no preference: the most free memory
        assertEquals(Optional.of("d"), scheduler.place(List.of(docker, lxdSmall, lxdBig), Reserved.none(), demand));
    }

    @Test
    void containerIdsAreEightLowercaseAlphanumerics() {
        ContainerIds ids = new ContainerIds();
        for (int i = 0; i < 1000; i++) assertTrue(ContainerIds.isValid(ids.next()));
        assertTrue(!ContainerIds.isValid("ABCDEFGH") && !ContainerIds.isValid("abc") && !ContainerIds.isValid("abcd-fgh"));
    }
}
