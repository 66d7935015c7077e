package com.ecloud.compute.core.internal.config;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** The images users may run (PID com.ecloud.compute.images). */
@ObjectClassDefinition(name = "ecloud compute images",
        description = "Builtin images and the internal registry")
public @interface ImagesConfig {

    String PID = "com.ecloud.compute.images";

    @AttributeDefinition(description = "Builtin images as name=reference=engine image prefix; the engine image "
            + "of an arch is <prefix>-<arch>. The first one is the default image.")
    String[] builtin() default {
        "Debian (Base)=ecloud/debian:bookworm=ecloud/debian:bookworm",
        "BusyBox=ecloud/busybox:latest=ecloud/busybox:latest"
    };

    @AttributeDefinition(description = "Address (host:port) of the internal registry; image references must start with it. Empty: no registry")
    String registry_address() default "127.0.0.1:5000";

    @AttributeDefinition(description = "Registry base URL the platform queries (http or https)")
    String registry_url() default "http://127.0.0.1:5000";

    @AttributeDefinition(description = "Seconds a registry listing is cached")
    int registry_cache_seconds() default 10;
}
