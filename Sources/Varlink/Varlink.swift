// Varlink: placeholder until its module lands.
