// Face detection, landmarks and alignment.
