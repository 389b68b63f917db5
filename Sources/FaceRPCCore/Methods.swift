/// The full method paths of facerpc v1, as carried in `RequestEnvelope.method`.
///
/// They follow gRPC's `/package.Service/Method` form so that logs, metrics and
/// clients read the same way as gRPC's.
public enum Methods {
    public static let healthCheck = "/facerpc.v1.Health/Check"
    public static let healthWatch = "/facerpc.v1.Health/Watch"
    public static let listModels = "/facerpc.v1.Models/List"
    public static let predict = "/facerpc.v1.Predictor/Predict"
    public static let trainStart = "/facerpc.v1.Training/Start"
    public static let trainStatus = "/facerpc.v1.Training/GetStatus"
    public static let trainWatch = "/facerpc.v1.Training/Watch"
    public static let trainCancel = "/facerpc.v1.Training/Cancel"
    public static let trainReport = "/facerpc.v1.Training/GetReport"
    /// Only served with `--enable-debug-service`.
    public static let debugSleep = "/facerpc.v1.Debug/Sleep"
}
