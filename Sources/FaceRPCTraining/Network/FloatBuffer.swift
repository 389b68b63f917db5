import FaceRPCKernels

/// The trainer's parameters, gradients and activations live in the kernels' aligned buffers.
typealias FloatBuffer = AlignedFloatBuffer
