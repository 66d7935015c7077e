package com.ecloud.compute.core.internal.rest;

import java.util.List;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.jakartars.whiteboard.propertytypes.JakartarsName;
import org.osgi.service.jakartars.whiteboard.propertytypes.JakartarsResource;

import com.ecloud.compute.auth.Principal;
import com.ecloud.compute.core.internal.http.RequestPrincipal;
import com.ecloud.compute.core.internal.images.ImageCatalog;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;

/** GET /compute/images: builtin images and the internal registry's images. */
@Component(service = ImagesResource.class)
@JakartarsResource
@JakartarsName("compute-images")
@Path("/compute/images")
@Produces(MediaType.APPLICATION_JSON)
public class ImagesResource {

    private final ImageCatalog images;

    @Activate
    public ImagesResource(@Reference ImageCatalog images) {
        this.images = images;
    }

    @GET
    public List<ImageCatalog.Image> list(@Context ContainerRequestContext request) {
        Principal p = RequestPrincipal.of(request);
        RequestPrincipal.require(request, "compute." + p.uid() + ".containers", "read");
        return images.list();
    }
}
