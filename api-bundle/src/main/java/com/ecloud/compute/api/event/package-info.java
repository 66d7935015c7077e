/**
 * The platform's event model: container status changes, delivered to whiteboard listeners.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.0.0")
package com.ecloud.compute.api.event;
