package dev.weft.controlplane.ca;

import dev.weft.xds.identity.IstioCertificateService;
import dev.weft.xds.identity.SpiffeId;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.List;

/**
 * Istio's {@code istio.v1.auth.IstioCertificateService/CreateCertificate} on the secure xDS port:
 * signs the caller's CSR for the identity its token proved ({@link CallerAuthenticator#CALLER}),
 * never one the CSR names. A refusal answers INVALID_ARGUMENT with the reason and is logged.
 */
public final class CaService {
  private static final System.Logger logger = System.getLogger(CaService.class.getName());

  private final CertificateAuthority ca;

  public CaService(CertificateAuthority ca) {
    this.ca = ca;
  }

  /** The gRPC service to add to the secure server (behind {@link CallerAuthenticator}). */
  public ServerServiceDefinition definition() {
    return ServerServiceDefinition.builder(IstioCertificateService.SERVICE_NAME)
        .addMethod(
            IstioCertificateService.CREATE_CERTIFICATE, ServerCalls.asyncUnaryCall(this::create))
        .build();
  }

  private void create(
      IstioCertificateService.Request request,
      StreamObserver<IstioCertificateService.Response> out) {
    WorkloadIdentity caller = CallerAuthenticator.CALLER.get();
    if (caller == null) {
      out.onError(Status.UNAUTHENTICATED.withDescription("no authenticated caller").asException());
      return;
    }
    SpiffeId id = caller.spiffeId(ca.trustDomain());
    List<String> chain;
    try {
      chain = ca.sign(request.csr(), id, Duration.ofSeconds(request.validityDurationSeconds()));
    } catch (CaException e) {
      logger.log(Level.WARNING, "refused a certificate for " + caller + ": " + e.getMessage());
      out.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asException());
      return;
    } catch (RuntimeException e) {
      logger.log(Level.ERROR, "cannot sign a certificate for " + caller, e);
      out.onError(Status.INTERNAL.withDescription("signing failed").asException());
      return;
    }
    logger.log(Level.INFO, "issued a certificate for " + id + " to " + caller);
    out.onNext(new IstioCertificateService.Response(chain));
    out.onCompleted();
  }
}
