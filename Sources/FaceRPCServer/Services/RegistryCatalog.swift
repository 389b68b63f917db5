import FaceRPCProtos
import FaceRPCRegistry

/// The registry, as the health and models services see it.
public struct RegistryCatalog: ModelCatalog {
    public let registry: ModelRegistry

    public init(registry: ModelRegistry) { self.registry = registry }

    public func listModels() -> [ModelInfo] {
        registry.descriptors().map(Self.modelInfo)
    }

    public func servingStatus(ofModel name: String) -> HealthCheckResponse.ServingStatus? {
        switch registry.health(service: name) {
        case .serving: return .serving
        case .notServing: return .notServing
        case .unknown: return nil
        }
    }

    static func modelInfo(_ descriptor: ModelDescriptor) -> ModelInfo {
        var info = ModelInfo()
        info.name = descriptor.name
        info.task = descriptor.task?.rawValue ?? ""
        info.architecture = descriptor.architecture
        info.version = descriptor.version
        switch descriptor.state {
        case .loading: info.state = .loading
        case .serving: info.state = .serving
        case .unavailable: info.state = .unavailable
        }
        info.error = descriptor.error ?? ""
        info.inputWidth = UInt32(clamping: descriptor.inputWidth)
        info.inputHeight = UInt32(clamping: descriptor.inputHeight)
        info.inputChannels = UInt32(clamping: descriptor.inputChannels)
        info.labels = descriptor.labels
        info.source = descriptor.source
        info.parameters = UInt64(clamping: descriptor.parameters)
        info.sha256 = descriptor.sha256
        info.mean = descriptor.mean
        info.scale = descriptor.scale
        return info
    }
}
