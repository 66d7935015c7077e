package com.ecloud.compute.api.runtime;

import org.osgi.annotation.versioning.ConsumerType;

/** Receives runtime events; must return quickly (it is called on the event stream's thread). */
@ConsumerType
public interface RuntimeEventListener {

    void onEvent(RuntimeEvent event);
}
