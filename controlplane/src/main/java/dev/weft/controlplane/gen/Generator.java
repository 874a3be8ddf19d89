package dev.weft.controlplane.gen;

import com.google.protobuf.Message;
import dev.weft.controlplane.push.PushContext;
import java.util.List;

/** Generates every resource of one xDS type for a proxy. Stateless; safe from any thread. */
public interface Generator {
  /** The type URL of the resources it generates. */
  String typeUrl();

  /** All resources of this type for {@code proxy}, in a stable order. */
  List<Message> generate(PushContext context, Proxy proxy);
}
