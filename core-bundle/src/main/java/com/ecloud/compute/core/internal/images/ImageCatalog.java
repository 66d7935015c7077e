package com.ecloud.compute.core.internal.images;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.ecloud.compute.api.model.Arch;
import com.ecloud.compute.core.internal.config.ImagesConfig;
import com.ecloud.compute.core.internal.http.ApiException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The images users may run: builtins (built locally for every arch) and the internal registry's images. It
 * resolves a user's image reference to the engine image of an arch, refusing what is not offered.
 */
@Component(service = ImageCatalog.class, configurationPid = ImagesConfig.PID,
        configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = ImagesConfig.class)
public class ImageCatalog {

    private static final Logger LOG = LoggerFactory.getLogger(ImageCatalog.class);
    // repository path components and tag, as the distribution spec defines them
    private static final Pattern REPOSITORY = Pattern.compile("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*");
    private static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
    private static final String MANIFEST_TYPES = String.join(",",
            "application/vnd.oci.image.index.v1+json",
            "application/vnd.docker.distribution.manifest.list.v2+json",
            "application/vnd.oci.image.manifest.v1+json",
            "application/vnd.docker.distribution.manifest.v2+json");

    /** One entry of GET /compute/images. */
    public record Image(String name, String image, String source) {
    }

    private record Builtin(String name, String reference, String enginePrefix) {
    }

    private record Listing(List<Image> images, Instant at) {
    }

    private final List<Builtin> builtins = new ArrayList<>();
    private final String registryAddress;
    private final String registryUrl;
    private final Duration cacheFor;
    private final HttpClient http;
    private final ObjectMapper json = new ObjectMapper();
    private volatile Listing cached;

    @Activate
    public ImageCatalog(ImagesConfig config) {
        for (String entry : config.builtin()) {
            String[] parts = entry.split("=");
            if (parts.length != 3) throw new IllegalArgumentException("builtin image entry needs name=reference=prefix: " + entry);
            builtins.add(new Builtin(parts[0].trim(), parts[1].trim(), parts[2].trim()));
        }
        if (builtins.isEmpty()) throw new IllegalArgumentException("at least one builtin image is required");
        this.registryAddress = config.registry_address().trim();
        this.registryUrl = config.registry_url().replaceAll("/+$", "");
        this.cacheFor = Duration.ofSeconds(Math.max(0, config.registry_cache_seconds()));
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    }

    /** The reference used when a create request names no image. */
    public String defaultReference() {
        return builtins.get(0).reference();
    }

    /** Builtins first, then the registry's images (builtins alone when the registry cannot be reached). */
    public List<Image> list() {
        List<Image> all = new ArrayList<>();
        for (Builtin b : builtins) all.add(new Image(b.name(), b.reference(), "builtin"));
        all.addAll(registryImages());
        return all;
    }

    /**
     * Checks a user's image reference (syntax, origin, and that it offers {@code arch}) and returns the engine
     * image to run.
     *
     * @throws ApiException 422 for a reference that is not offered or lacks the arch, 503 when the registry
     *                      cannot be asked
     */
    public String resolve(String reference, Arch arch) {
        for (Builtin b : builtins) {
            if (b.reference().equals(reference)) return b.enginePrefix() + "-" + arch.id();
        }
        if (registryAddress.isEmpty()) {
            throw ApiException.unprocessable("image must be one of the builtin images listed by GET /compute/images");
        }
        int slash = reference.indexOf('/');
        // the host part is compared whole: "127.0.0.1:5000.evil.example/x:y" is another host
        if (slash < 0 || !reference.substring(0, slash).equals(registryAddress)) {
            throw ApiException.unprocessable("image must be a builtin image or " + registryAddress + "/<repo>:<tag>");
        }
        String rest = reference.substring(slash + 1);
        int colon = rest.lastIndexOf(':');
        if (colon <= 0) throw ApiException.unprocessable("image reference needs a tag: " + registryAddress + "/<repo>:<tag>");
        String repo = rest.substring(0, colon);
        String tag = rest.substring(colon + 1);
        if (!REPOSITORY.matcher(repo).matches() || !TAG.matcher(tag).matches()) {
            throw ApiException.unprocessable("malformed image reference: " + reference);
        }
        Set<Arch> arches = registryArches(repo, tag)
                .orElseThrow(() -> ApiException.unprocessable("image not found in the registry: " + reference));
        if (!arches.contains(arch)) {
            throw ApiException.unprocessable("image " + reference + " has no " + arch.id() + " variant");
        }
        return reference;
    }

    private List<Image> registryImages() {
        if (registryAddress.isEmpty()) return List.of();
        Listing l = cached;
        if (l != null && l.at().plus(cacheFor).isAfter(Instant.now())) return l.images();
        List<Image> images = new ArrayList<>();
        try {
            JsonNode catalog = getJson("/v2/_catalog?n=1000", "application/json");
            for (JsonNode repo : catalog.path("repositories")) {
                JsonNode tags = getJson("/v2/" + repo.asText() + "/tags/list", "application/json");
                for (JsonNode tag : tags.path("tags")) {
                    String name = repo.asText() + ":" + tag.asText();
                    images.add(new Image(name, registryAddress + "/" + name, "registry"));
                }
            }
        } catch (IOException | RegistryAnswer e) {
            LOG.warn("internal registry {} not listed: {}", registryUrl, e.getMessage());
            return l != null ? l.images() : List.of();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return List.of();
        }
        List<Image> result = List.copyOf(images);
        cached = new Listing(result, Instant.now());
        return result;
    }

    /** The arches an image offers; empty when the registry has no such image. */
    private Optional<Set<Arch>> registryArches(String repo, String tag) {
        try {
            JsonNode manifest = getJson("/v2/" + repo + "/manifests/" + tag, MANIFEST_TYPES);
            Set<Arch> arches = new HashSet<>();
            if (manifest.has("manifests")) { // an index: one entry per platform
                for (JsonNode m : manifest.path("manifests")) {
                    if ("linux".equals(m.path("platform").path("os").asText("linux"))) {
                        Arch.parse(m.path("platform").path("architecture").asText()).ifPresent(arches::add);
                    }
                }
            } else { // a single image: its config says the arch
                String digest = manifest.path("config").path("digest").asText();
                JsonNode config = getJson("/v2/" + repo + "/blobs/" + digest, "*/*");
                Arch.parse(config.path("architecture").asText()).ifPresent(arches::add);
            }
            return Optional.of(arches);
        } catch (RegistryAnswer e) {
            if (e.status == 404) return Optional.empty();
            throw ApiException.unavailable("the image registry answered " + e.status);
        } catch (IOException e) {
            throw ApiException.unavailable("the image registry cannot be reached");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ApiException.unavailable("interrupted while asking the image registry");
        }
    }

    private JsonNode getJson(String path, String accept) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create(registryUrl + path))
                .timeout(Duration.ofSeconds(5)).header("Accept", accept).GET().build();
        HttpResponse<byte[]> response = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
        if (response.statusCode() != 200) throw new RegistryAnswer(response.statusCode());
        return json.readTree(response.body());
    }

    private static final class RegistryAnswer extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final int status;

        RegistryAnswer(int status) {
            super("registry answered HTTP " + status, null, false, false);
            this.status = status;
        }
    }
}
