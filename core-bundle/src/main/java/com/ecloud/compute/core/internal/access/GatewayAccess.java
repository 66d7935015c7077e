package com.ecloud.compute.core.internal.access;

import java.util.List;
import java.util.Optional;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import com.ecloud.compute.api.access.AccessRefusedException;
import com.ecloud.compute.api.access.ContainerAccess;
import com.ecloud.compute.api.access.SshTarget;
import com.ecloud.compute.api.model.Container;
import com.ecloud.compute.api.model.ContainerStatus;
import com.ecloud.compute.api.model.SshKey;
import com.ecloud.compute.api.runtime.ContainerRuntime;
import com.ecloud.compute.api.runtime.ExecListener;
import com.ecloud.compute.api.runtime.ExecSession;
import com.ecloud.compute.api.runtime.ExecSpec;
import com.ecloud.compute.api.runtime.HostEndpoint;
import com.ecloud.compute.api.store.ContainerStore;
import com.ecloud.compute.api.store.KeyStore;
import com.ecloud.compute.core.internal.http.ApiException;
import com.ecloud.compute.core.internal.lifecycle.ContainerIds;
import com.ecloud.compute.core.internal.lifecycle.ContainerLifecycle;

/**
 * {@link ContainerAccess} for the gateways: the store says who may enter, the lifecycle says which runtime holds
 * the container. Keys are read on every call, so a key deleted from the account stops working at once.
 */
@Component(service = ContainerAccess.class)
public class GatewayAccess implements ContainerAccess {

    private final ContainerStore containers;
    private final KeyStore keys;
    private final ContainerLifecycle lifecycle;

    @Activate
    public GatewayAccess(@Reference ContainerStore containers, @Reference KeyStore keys,
            @Reference ContainerLifecycle lifecycle) {
        this.containers = containers;
        this.keys = keys;
        this.lifecycle = lifecycle;
    }

    @Override
    public Optional<SshTarget> sshTarget(String containerId) {
        if (containerId == null || !ContainerIds.isValid(containerId)) return Optional.empty();
        return containers.find(containerId).map(c -> {
            List<String> lines = keys.attachedTo(c.id()).stream().filter(k -> k.ownerId().equals(c.ownerId()))
                    .map(SshKey::publicKey).toList();
            return new SshTarget(c.id(), c.ownerId(), c.status(), c.sshEnabled(), lines);
        });
    }

    @Override
    public ExecSession exec(String containerId, ExecSpec spec, ExecListener listener) {
        return runtimeOfRunning(containerId).exec(containerId, spec, listener);
    }

    @Override
    public HostEndpoint expose(String containerId, int port) {
        return runtimeOfRunning(containerId).expose(containerId, port);
    }

    @Override
    public String domain() {
        return lifecycle.config().domain();
    }

    private ContainerRuntime runtimeOfRunning(String containerId) {
        Container c = (containerId == null || !ContainerIds.isValid(containerId) ? Optional.<Container>empty()
                : containers.find(containerId)).orElseThrow(() -> new AccessRefusedException("no such container: " + containerId));
        if (c.status() != ContainerStatus.RUNNING) {
            throw new AccessRefusedException("container " + c.id() + " is " + c.status().id()
                    + ": start it first (POST /compute/containers/" + c.id() + "/start)");
        }
        try {
            return lifecycle.runtimeOf(c);
        } catch (ApiException e) {
            throw new AccessRefusedException(e.getMessage());
        }
    }
}
