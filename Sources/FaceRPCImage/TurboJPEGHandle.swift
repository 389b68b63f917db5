import CTurboJPEG

/// Owns one TurboJPEG instance. Handles are cheap (a small struct) and are not
/// thread-safe, so each decode or encode call makes its own and `deinit` frees it;
/// none is ever shared between tasks.
final class TurboJPEGHandle {
    enum Kind { case decompress, compress }

    let raw: tjhandle

    init(_ kind: Kind) throws(ImageError) {
        let handle: tjhandle? = switch kind {
        case .decompress: tjInitDecompress()
        case .compress: tjInitCompress()
        }
        guard let handle else {
            // tjInit* only fails when malloc fails.
            throw kind == .compress ? .encodingFailed("tjInitCompress failed") : .corrupt("tjInitDecompress failed")
        }
        self.raw = handle
    }

    deinit { tjDestroy(raw) }

    /// The message libjpeg-turbo left for the last failing call on this handle.
    var lastErrorMessage: String {
        guard let message = tjGetErrorStr2(raw) else { return "unknown libjpeg-turbo error" }
        return String(cString: message)
    }

    /// True when the last failure was a warning (data recoverable but possibly corrupt).
    var lastErrorWasWarning: Bool {
        tjGetErrorCode(raw) == facerpc_tj_err_warning()
    }
}
