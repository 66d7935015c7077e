package com.ecloud.compute.core.internal.config;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** Configuration of the platform core (PID com.ecloud.compute.platform). Every property has a default. */
@ObjectClassDefinition(name = "ecloud compute platform",
        description = "Limits, names and timings of the container platform")
public @interface PlatformConfig {

    String PID = "com.ecloud.compute.platform";

    @AttributeDefinition(description = "Domain of container host names: <id>.compute.<domain>")
    String domain() default "localhost";

    @AttributeDefinition(description = "Public host name of the SSH gateway, used in ssh_command")
    String ssh_public_host() default "localhost";

    @AttributeDefinition(description = "Public port of the SSH gateway, used in ssh_command (no -p when 22)")
    int ssh_public_port() default 2222;

    @AttributeDefinition(description = "Public address at which running containers' ingress ports are reached, "
            + "sent as external_ip in container_status messages")
    String external_address() default "127.0.0.1";

    @AttributeDefinition(description = "Maximum containers per user")
    int max_containers_per_user() default 3;

    @AttributeDefinition(description = "Maximum SSH keys per user")
    int max_keys_per_user() default 10;

    @AttributeDefinition(description = "memory_mb when a create request names none")
    int memory_default_mb() default 512;

    @AttributeDefinition(description = "Smallest memory_mb accepted")
    int memory_min_mb() default 128;

    @AttributeDefinition(description = "Largest memory_mb accepted")
    int memory_max_mb() default 16384;

    @AttributeDefinition(description = "storage_gb when a create request names none")
    int storage_default_gb() default 5;

    @AttributeDefinition(description = "Smallest storage_gb accepted")
    int storage_min_gb() default 1;

    @AttributeDefinition(description = "Largest storage_gb accepted")
    int storage_max_gb() default 100;

    @AttributeDefinition(description = "Seconds a container may take from create or start to running before it is failed")
    int provisioning_deadline_seconds() default 300;

    @AttributeDefinition(description = "Seconds a stop waits for the main process before killing it")
    int stop_grace_seconds() default 10;

    @AttributeDefinition(description = "Seconds between two reconciliations of the store with every runtime")
    int reconcile_interval_seconds() default 60;

    @AttributeDefinition(description = "CPU that may be promised per core of a host (instance types' cores summed; "
            + "1.0: none over-committed)")
    double cpu_overcommit() default 8.0;

    @AttributeDefinition(description = "Runtime types in order of preference for new containers (e.g. lxd,docker); "
            + "empty: none preferred, the host with the most free memory wins")
    String[] runtime_preference() default {};

    @AttributeDefinition(description = "Seconds an engine container unknown to the store is left alone before it is removed")
    int orphan_grace_seconds() default 300;

    @AttributeDefinition(description = "Seconds between two reads of containers' memory and disk use (and storage cap checks)")
    int usage_interval_seconds() default 15;
}
