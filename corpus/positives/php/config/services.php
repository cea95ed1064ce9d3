<?php

define('MAILGUN_API_KEY', 'key-2cc8251a4f1ded7cd233db7f0d1bdff0');

return [

    'mailgun' => [
        'domain' => env('MAILGUN_DOMAIN', 'mg.orbit-ledger.com'),
        'secret' => MAILGUN_API_KEY,
        'endpoint' => env('MAILGUN_ENDPOINT', 'api.eu.mailgun.net'),
    ],

    'twilio' => [
        'sid' => env('TWILIO_SID', 'ACe2d373015b8610cb1d4760afdf7ff8cf'),
        'token' => env('TWILIO_AUTH_TOKEN', '13afb288766ac0c1744674df6be2220b'),
        'from' => env('TWILIO_FROM', '+15017122661'),
    ],

    'stripe' => [
        'key' => env('STRIPE_KEY'),
        'secret' => env('STRIPE_SECRET'),
    ],

];
