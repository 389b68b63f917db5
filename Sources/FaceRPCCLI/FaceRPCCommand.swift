import ArgumentParser

/// `facerpc`: the server and its tools.
@main
struct FaceRPCCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "facerpc",
        abstract: "Age and gender of the faces in a photo, served over a gRPC-style protocol.",
        subcommands: [ServeCommand.self, HealthCommand.self, ModelsCommand.self, PredictCommand.self,
                      TrainCommand.self, TrainStatusCommand.self, TrainReportCommand.self, LoadCommand.self,
                      RunModelCommand.self, BenchModelCommand.self, BenchTrainCommand.self, ExportONNXCommand.self]
    )
}
