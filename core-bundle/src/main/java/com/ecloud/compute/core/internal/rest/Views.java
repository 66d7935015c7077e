package com.ecloud.compute.core.internal.rest;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import com.ecloud.compute.api.model.Container;
import com.ecloud.compute.api.model.IngressRule;
import com.ecloud.compute.api.model.SshKey;
import com.ecloud.compute.api.runtime.Usage;
import com.ecloud.compute.core.internal.config.PlatformConfig;

/** The JSON shapes of the Compute API, field names exactly as the contract spells them. */
public final class Views {

    private Views() {
    }

    public static Map<String, Object> container(Container c, Optional<Usage> usage, PlatformConfig config) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", c.id());
        m.put("name", c.name());
        m.put("status", c.status().id());
        if (c.statusReason() != null) m.put("status_reason", c.statusReason());
        m.put("hostname", c.id() + ".compute." + config.domain());
        m.put("memory_mb", c.memoryMb());
        m.put("memory_used_mb", usage.map(u -> u.memoryUsedBytes() >> 20).orElse(0L));
        m.put("storage_gb", c.storageGb());
        m.put("storage_used_gb", usage.map(u -> Math.round(u.diskUsedBytes() / (double) (1L << 30) * 100) / 100.0).orElse(0.0));
        m.put("instance_type", c.instanceType().id());
        m.put("image", c.image());
        m.put("created_at", rfc3339(c.createdAt()));
        m.put("ssh_enabled", c.sshEnabled());
        m.put("https_enabled", c.httpsEnabled());
        m.put("ssh_command", sshCommand(c.id(), config));
        m.put("ssh_key_ids", c.sshKeyIds());
        m.put("mount_paths", c.mountPaths());
        return m;
    }

    static String sshCommand(String id, PlatformConfig config) {
        int port = config.ssh_public_port();
        return "ssh " + (port == 22 ? "" : "-p " + port + " ") + id + "@" + config.ssh_public_host();
    }

    static Map<String, Object> key(SshKey k) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", k.id());
        m.put("name", k.name());
        m.put("public_key", k.publicKey());
        m.put("fingerprint", k.fingerprint());
        m.put("created_at", rfc3339(k.createdAt()));
        return m;
    }

    static Map<String, Object> rule(IngressRule r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", r.id());
        m.put("port", r.port());
        m.put("target_port", r.targetPort());
        m.put("created_at", r.createdAt().getEpochSecond());
        return m;
    }

    static String rfc3339(Instant t) {
        return t.truncatedTo(ChronoUnit.SECONDS).toString();
    }
}
