package com.ecloud.compute.core.internal.lifecycle;

import java.util.Collection;
import java.util.Comparator;
import java.util.Map;
import java.util.Optional;

import com.ecloud.compute.api.model.Arch;
import com.ecloud.compute.api.runtime.Fingerprint;

/**
 * Picks a host for a container: healthy, running the instance type's arch, with room for its memory (memory
 * is never over-committed; CPU is a limit, not a reservation). Among those, the one with the most free memory.
 */
public final class ContainerScheduler {

    /**
     * @param hosts        fingerprints of the runtimes available now
     * @param reservedMb   memory already promised to containers on each host, by host name
     * @param arch         the arch the container needs
     * @param memoryMb     the memory it needs
     * @return the chosen host name; empty when no host fits
     */
    public Optional<String> place(Collection<Fingerprint> hosts, Map<String, Long> reservedMb, Arch arch, int memoryMb) {
        return hosts.stream()
                .filter(Fingerprint::healthy)
                .filter(f -> f.arches().contains(arch))
                .filter(f -> free(f, reservedMb) >= memoryMb)
                .max(Comparator.comparingLong((Fingerprint f) -> free(f, reservedMb)).thenComparing(Fingerprint::host))
                .map(Fingerprint::host);
    }

    /** Why nothing fits, in words for the container's owner. */
    public String whyNot(Collection<Fingerprint> hosts, Map<String, Long> reservedMb, Arch arch, int memoryMb) {
        if (hosts.stream().noneMatch(Fingerprint::healthy)) return "no healthy host is available";
        if (hosts.stream().filter(Fingerprint::healthy).noneMatch(f -> f.arches().contains(arch))) {
            return "no healthy host runs " + arch.id();
        }
        return "no " + arch.id() + " host has " + memoryMb + " MB of memory free";
    }

    private static long free(Fingerprint f, Map<String, Long> reservedMb) {
        return f.memoryMb() - reservedMb.getOrDefault(f.host(), 0L);
    }
}
