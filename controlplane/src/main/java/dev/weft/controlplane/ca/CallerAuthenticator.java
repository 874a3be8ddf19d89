package dev.weft.controlplane.ca;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.lang.System.Logger.Level;

/**
 * Authenticates every call on the secure xDS port by its workload token ({@code authorization:
 * Bearer <token>} metadata, as Istio's CA and xDS authenticate Kubernetes JWTs): a call without a
 * valid token is closed with UNAUTHENTICATED and the reason, which is also logged with the peer's
 * address; an accepted call runs with the proven {@link WorkloadIdentity} in {@link #CALLER}.
 */
public final class CallerAuthenticator implements ServerInterceptor {
  private static final System.Logger logger = System.getLogger(CallerAuthenticator.class.getName());

  /** The authenticated caller of the current call. */
  public static final Context.Key<WorkloadIdentity> CALLER = Context.key("weft-caller");

  static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private final WorkloadTokens tokens;

  public CallerAuthenticator(WorkloadTokens tokens) {
    this.tokens = tokens;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    String header = headers.get(AUTHORIZATION);
    String token = null;
    if (header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      token = header.substring(7).trim();
    }
    WorkloadIdentity caller;
    try {
      if (header != null && token == null) {
        throw new CaException("the authorization header is not \"Bearer <workload token>\"");
      }
      caller = tokens.verify(token);
    } catch (CaException e) {
      logger.log(
          Level.WARNING,
          "refused "
              + call.getMethodDescriptor().getFullMethodName()
              + " from "
              + call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR)
              + ": "
              + e.getMessage());
      call.close(Status.UNAUTHENTICATED.withDescription(e.getMessage()), new Metadata());
      return new ServerCall.Listener<>() {};
    }
    return Contexts.interceptCall(Context.current().withValue(CALLER, caller), call, headers, next);
  }
}
