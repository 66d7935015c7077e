package com.ecloud.compute.core.internal.lifecycle;

import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;

import com.ecloud.compute.api.model.Arch;
import com.ecloud.compute.api.runtime.Fingerprint;

/**
 * Picks a host for a container: healthy, running the instance type's arch, with room for its memory (never
 * over-committed) and its CPU (the host's cores times {@code cpuOvercommit}: CPU is a limit shared in time, so
 * some over-commit is normal, but not without bound). Among those, the most preferred runtime type, then the
 * host with the most free memory.
 */
public final class ContainerScheduler {

    /** What is already promised on each host, by host name. */
    public record Reserved(Map<String, Long> memoryMb, Map<String, Long> cpuMillis) {

        public Reserved {
            memoryMb = Map.copyOf(memoryMb);
            cpuMillis = Map.copyOf(cpuMillis);
        }

        static Reserved none() {
            return new Reserved(Map.of(), Map.of());
        }
    }

    /** What a container needs. */
    public record Demand(Arch arch, int memoryMb, int cpuMillis) {
    }

    private final double cpuOvercommit;
    private final List<String> preferredTypes;

    /**
     * @param cpuOvercommit  CPU that may be promised per core of a host (1.0: none)
     * @param preferredTypes runtime types (e.g. "lxd", "docker") in order of preference; types not listed come
     *                       after them, equal among themselves
     */
    public ContainerScheduler(double cpuOvercommit, List<String> preferredTypes) {
        this.cpuOvercommit = cpuOvercommit > 0 ? cpuOvercommit : 1.0;
        // an element may itself be a comma-separated list (a .cfg line)
        this.preferredTypes = preferredTypes.stream().flatMap(t -> java.util.Arrays.stream(t.split(",")))
                .map(t -> t.trim().toLowerCase(Locale.ROOT)).filter(t -> !t.isEmpty()).toList();
    }

    /** @return the chosen host name; empty when no host fits */
    public Optional<String> place(Collection<Fingerprint> hosts, Reserved reserved, Demand demand) {
        return hosts.stream()
                .filter(fits(reserved, demand))
                .min(Comparator.comparingInt((Fingerprint f) -> preference(f.type()))
                        .thenComparing(Comparator.comparingLong((Fingerprint f) -> freeMemory(f, reserved)).reversed())
                        .thenComparing(Fingerprint::host))
                .map(Fingerprint::host);
    }

    /** Why nothing fits, in words for the container's owner. */
    public String whyNot(Collection<Fingerprint> hosts, Reserved reserved, Demand demand) {
        if (hosts.stream().noneMatch(Fingerprint::healthy)) return "no healthy host is available";
        List<Fingerprint> ofArch = hosts.stream().filter(Fingerprint::healthy).filter(f -> f.arches().contains(demand.arch())).toList();
        if (ofArch.isEmpty()) return "no healthy host runs " + demand.arch().id();
        if (ofArch.stream().noneMatch(f -> freeMemory(f, reserved) >= demand.memoryMb())) {
            return "no " + demand.arch().id() + " host has " + demand.memoryMb() + " MB of memory free";
        }
        return "no " + demand.arch().id() + " host with " + demand.memoryMb() + " MB free has room for "
                + String.format(Locale.ROOT, "%.1f", demand.cpuMillis() / 1000.0) + " more CPU cores";
    }

    private Predicate<Fingerprint> fits(Reserved reserved, Demand demand) {
        return f -> f.healthy() && f.arches().contains(demand.arch()) && freeMemory(f, reserved) >= demand.memoryMb()
                && freeCpuMillis(f, reserved) >= demand.cpuMillis();
    }

    private int preference(String type) {
        int rank = preferredTypes.indexOf(type == null ? "" : type.toLowerCase(Locale.ROOT));
        return rank < 0 ? preferredTypes.size() : rank;
    }

    private static long freeMemory(Fingerprint f, Reserved reserved) {
        return f.memoryMb() - reserved.memoryMb().getOrDefault(f.host(), 0L);
    }

    private long freeCpuMillis(Fingerprint f, Reserved reserved) {
        return Math.round(f.cpus() * 1000L * cpuOvercommit) - reserved.cpuMillis().getOrDefault(f.host(), 0L);
    }
}
