package io.specd.kernels.torch;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.specd.kernels.llama.Backend;
import io.specd.kernels.llama.HostLayer;
import io.specd.kernels.llama.Linear;
import io.specd.kernels.llama.LlamaConfig;
import io.specd.kernels.llama.Transformer;
import io.specd.kernels.llama.WeightSource;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code torch} backend: DJL with PyTorch on a device (a GPU when one is found, else the CPU).
 * It dequantizes weights to float32 at load.
 */
public final class TorchBackend implements Backend {
  private final Device device;
  private final int threads;

  /**
   * @param device where the weights live
   * @param threads PyTorch intra-op threads, or 0 for {@link TorchRuntime#threadsFor}'s choice
   */
  public TorchBackend(Device device, int threads) {
    this.device = device;
    this.threads = threads;
  }

  /** The CPU with the default thread count. */
  public static TorchBackend cpu() {
    return new TorchBackend(Device.cpu(), 0);
  }

  @Override
  public String name() {
    return "torch";
  }

  public Device device() {
    return device;
  }

  @Override
  public Transformer load(WeightSource source) {
    TorchRuntime.useThreads(TorchRuntime.threadsFor(source.config(), threads));
    return TorchModel.load(source, device);
  }

  @Override
  public Transformer stack(LlamaConfig config, List<HostLayer> layers) {
    NDManager manager = NDManager.newBaseManager(device);
    try {
      List<LayerWeights> fused = new ArrayList<>();
      layers.forEach(layer -> fused.add(LayerWeights.fuse(layer, config, manager)));
      return TorchModel.stack(config, fused, manager);
    } catch (RuntimeException e) {
      manager.close();
      throw e;
    }
  }

  @Override
  public Linear linear(float[] weight, int outputs, int inputs) {
    NDManager manager = NDManager.newBaseManager(device);
    return new TorchLinear(
        manager.create(LayerWeights.transpose(weight, outputs, inputs), new Shape(inputs, outputs)),
        manager);
  }

  @Override
  public void prepareThread() {
    TorchRuntime.applyToThisThread();
  }
}
