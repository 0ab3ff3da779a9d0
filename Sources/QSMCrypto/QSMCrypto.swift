// QSMCrypto: placeholder until its issue lands.
