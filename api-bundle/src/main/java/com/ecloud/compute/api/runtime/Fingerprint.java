package com.ecloud.compute.api.runtime;

import java.util.Set;

import com.ecloud.compute.api.model.Arch;

/**
 * What a host offers.
 *
 * @param type      kind of engine
 * @param host      host name
 * @param arches    arches it runs: its native one, and others where it emulates them (binfmt)
 * @param cpus      CPU cores
 * @param memoryMb  memory in MiB
 * @param health    whether it can take work now
 * @param reason    why it is not healthy; null when healthy
 */
public record Fingerprint(String type, String host, Set<Arch> arches, int cpus, long memoryMb, Health health,
        String reason) {

    public Fingerprint {
        arches = Set.copyOf(arches);
    }

    public boolean healthy() {
        return health == Health.HEALTHY;
    }
}
