package com.ecloud.compute.api.runtime;

/**
 * Resource use of one container.
 *
 * @param memoryUsedBytes  memory in use now (0 when not running)
 * @param storageUsedBytes bytes used on its persistent storage (its mount paths)
 * @param rootfsUsedBytes  bytes written to its own filesystem (outside the mount paths)
 */
public record Usage(long memoryUsedBytes, long storageUsedBytes, long rootfsUsedBytes) {

    /** Everything the container occupies on disk: what counts against its storage cap. */
    public long diskUsedBytes() {
        return storageUsedBytes + rootfsUsedBytes;
    }
}
