package dev.weft.cli.install;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.cli.common.StateDir;
import dev.weft.controlplane.ControlPlane;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UninstallTest {
  @TempDir Path dir;

  @Test
  void uninstallForgetsTheWorkloadRegistrySoTheNextInstallRestoresNoStoppedWorkload()
      throws Exception {
    Path registry = dir.resolve(ControlPlane.REGISTRY_FILE);
    Files.createDirectories(registry.getParent());
    Files.writeString(registry, "{\"workloads\":[]}");
    Files.writeString(dir.resolve("token"), "t");
    StringWriter out = new StringWriter();

    Installer.uninstall(StateDir.of(dir), false, new PrintWriter(out));

    assertThat(registry).doesNotExist();
    assertThat(dir.resolve("token")).exists();
    assertThat(out.toString()).contains("Uninstall complete");
  }
}
