import FaceRPCCore
import FaceRPCProtos

/// ListModels: every model with its task, version and state. Cheap: a snapshot
/// of the registry's descriptors, so it is answered on the event loop.
struct ModelsService: RPCService {
    let catalog: any ModelCatalog

    func register(into router: inout Router) {
        router.register(Methods.listModels, .inlineUnary { _, payload throws(RPCError) in
            _ = try decode(ListModelsRequest.self, payload)
            var response = ListModelsResponse()
            response.models = catalog.listModels()
            return response.serializedBytes()
        })
    }
}
