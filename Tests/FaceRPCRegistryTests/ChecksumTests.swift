import Testing
@testable import FaceRPCRegistry
